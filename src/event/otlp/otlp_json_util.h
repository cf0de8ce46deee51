// Small helpers shared by the OTLP/JSON parser and printer (otlp_json.h). Internal.
#pragma once

#include <google/protobuf/descriptor.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace cistern::otlp::json_detail {

using google::protobuf::FieldDescriptor;

// OTLP/JSON writes trace_id and span_id (LogRecord, Exemplar) as hex; every other bytes field
// (AnyValue.bytes_value) keeps the standard base64 (OTLP spec, "JSON Protobuf Encoding").
inline bool IsIdField(const FieldDescriptor* f) {
  return f->type() == FieldDescriptor::TYPE_BYTES &&
         (f->name() == "trace_id" || f->name() == "span_id");
}

inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Case-insensitive hex (RFC 4648 section 8) -> bytes; false on an odd length or a non-hex digit.
inline bool HexToBytes(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  out->reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

inline void AppendHex(std::string_view bytes, std::string* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (unsigned char b : bytes) {
    out->push_back(kDigits[b >> 4]);
    out->push_back(kDigits[b & 0xf]);
  }
}

template <typename T>
void AppendNumber(T v, std::string* out) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}

// A finite double as libprotobuf writes it: %.15g, or %.17g when that would not read back
// exactly (so 1e12 is 1000000000000, 0.1 is 0.1).
inline void AppendDouble(double v, std::string* out) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
  out->append(buf);
}

}  // namespace cistern::otlp::json_detail
