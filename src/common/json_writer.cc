#include "common/json_writer.h"

#include <fmt/format.h>

#include <cmath>

#include "common/utf8.h"

namespace cistern {

void AppendJsonString(std::string* out, std::string_view s) {
  // JSON is UTF-8: bytes that are not (a raw request target, a TEXT value) become U+FFFD.
  std::string valid;
  if (!IsValidUtf8(s)) {
    valid = ValidUtf8(s);
    s = valid;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + s.size() + 2);
  out->push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20) {
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xf]);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

void JsonWriter::Int(int64_t v) {
  Sep();
  fmt::format_to(std::back_inserter(out_), "{}", v);
}

void JsonWriter::Uint(uint64_t v) {
  Sep();
  fmt::format_to(std::back_inserter(out_), "{}", v);
}

void JsonWriter::Double(double v) {
  Sep();
  if (!std::isfinite(v)) {
    out_ += "null";  // JSON has no NaN/Inf
    return;
  }
  fmt::format_to(std::back_inserter(out_), "{:.3f}", v);
}

}  // namespace cistern
