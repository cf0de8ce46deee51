#include "common/utf8.h"

#include <simdjson.h>

#include <cstdint>

namespace cistern {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the valid sequence at the start of `s`, or 0 when it is invalid; then
// *bad is the length of its maximal invalid subpart (at least 1). Table 3-7 of the Unicode
// standard gives the valid ranges of the second byte.
size_t ValidPrefix(std::string_view s, size_t* bad) {
  const auto b0 = static_cast<uint8_t>(s[0]);
  if (b0 < 0x80) return 1;
  size_t len = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlong forms
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    *bad = 1;  // a continuation byte, C0, C1 or F5..FF
    return 0;
  }
  for (size_t i = 1; i < len; ++i) {
    if (i >= s.size()) {
      *bad = i;  // truncated at the end of the input
      return 0;
    }
    const auto b = static_cast<uint8_t>(s[i]);
    const bool ok = i == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) {
      *bad = i;
      return 0;
    }
  }
  return len;
}

}  // namespace

bool IsValidUtf8(std::string_view in) { return simdjson::validate_utf8(in.data(), in.size()); }

void AppendValidUtf8(std::string* out, std::string_view in) {
  if (IsValidUtf8(in)) {
    out->append(in);
    return;
  }
  out->reserve(out->size() + in.size() + 8);
  size_t i = 0;
  while (i < in.size()) {
    size_t bad = 0;
    const size_t n = ValidPrefix(in.substr(i), &bad);
    if (n > 0) {
      out->append(in.substr(i, n));
      i += n;
    } else {
      out->append(kReplacement);
      i += bad;
    }
  }
}

std::string ValidUtf8(std::string_view in) {
  std::string out;
  AppendValidUtf8(&out, in);
  return out;
}

}  // namespace cistern
