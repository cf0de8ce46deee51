#include "common/json_writer.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

#include "common/utf8.h"

namespace cistern {

namespace {

// The escape of each byte that needs one in a JSON string (RFC 8259: ", \ and U+0000..U+001F),
// else nullptr. The short forms for \n, \r, \t; \u00XX for the other control characters.
struct EscapeTable {
  char text[256][7] = {};
  uint8_t size[256] = {};
  constexpr EscapeTable() {
    constexpr char kHex[] = "0123456789abcdef";
    for (int c = 0; c < 0x20; ++c) {
      const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      for (int i = 0; i < 6; ++i) text[c][i] = u[i];
      size[c] = 6;
    }
    Set('"', "\\\"");
    Set('\\', "\\\\");
    Set('\n', "\\n");
    Set('\r', "\\r");
    Set('\t', "\\t");
  }
  constexpr void Set(unsigned char c, const char (&e)[3]) {
    text[c][0] = e[0];
    text[c][1] = e[1];
    text[c][2] = '\0';
    size[c] = 2;
  }
};
constexpr EscapeTable kEscapes;

bool IsAscii(std::string_view s) {
  unsigned char any = 0;
  for (char c : s) any |= static_cast<unsigned char>(c);  // vectorised by the compiler
  return any < 0x80;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  // JSON is UTF-8: bytes that are not (a raw request target, a TEXT value) become U+FFFD. Only
  // text with a non-ASCII byte can be invalid.
  std::string valid;
  if (!IsAscii(s) && !IsValidUtf8(s)) {
    valid = ValidUtf8(s);
    s = valid;
  }
  out->reserve(out->size() + s.size() + 2);
  out->push_back('"');
  // Copies each run of bytes that need no escape in one append.
  const char* run = s.data();
  const char* const end = s.data() + s.size();
  for (const char* p = run; p != end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (kEscapes.size[c] == 0) continue;
    out->append(run, p);
    out->append(kEscapes.text[c], kEscapes.size[c]);
    run = p + 1;
  }
  out->append(run, end);
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
