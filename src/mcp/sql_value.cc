// JSON encoding of SQLite values (declared in mcp/readonly_db.h).
#include <fmt/format.h>

#include <cmath>
#include <iterator>

#include "common/json_writer.h"
#include "mcp/readonly_db.h"

namespace cistern::mcp {
namespace {

void AppendBase64(std::string* out, std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out->push_back(kAlphabet[(n >> shift) & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    *out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    *out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
}

// The length of `s` as a JSON string literal written by AppendJsonString.
size_t JsonStringSize(std::string_view s) {
  size_t n = 2;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t') {
      n += 2;
    } else if (c < 0x20) {
      n += 6;
    } else {
      n += 1;
    }
  }
  return n;
}

}  // namespace

size_t SqlValueJsonSize(const SqlValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return JsonStringSize(*s);
  if (auto* b = std::get_if<Blob>(&v)) return 9 + (b->bytes.size() + 2) / 3 * 4;  // "base64:"
  std::string out;
  AppendSqlValueJson(&out, v);
  return out.size();
}

void AppendSqlValueJson(std::string* out, const SqlValue& v) {
  if (std::holds_alternative<std::nullptr_t>(v)) {
    *out += "null";
  } else if (auto* i = std::get_if<int64_t>(&v)) {
    fmt::format_to(std::back_inserter(*out), "{}", *i);
  } else if (auto* d = std::get_if<double>(&v)) {
    // Not JsonWriter::Double, which rounds to 3 decimals: a query answer keeps every digit.
    if (std::isfinite(*d)) {
      fmt::format_to(std::back_inserter(*out), "{}", *d);
    } else {
      *out += "null";
    }
  } else if (auto* s = std::get_if<std::string>(&v)) {
    AppendJsonString(out, *s);
  } else {
    *out += "\"base64:";
    AppendBase64(out, std::get<Blob>(v).bytes);
    *out += '"';
  }
}

}  // namespace cistern::mcp
