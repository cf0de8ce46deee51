// Valid UTF-8 for everything Cistern writes as JSON: JSON must be valid UTF-8 (RFC 8259), but
// SQLite hands back whatever bytes a TEXT value holds (CAST(x'ff' AS TEXT) is TEXT) and a
// request target can carry any byte. Invalid sequences are replaced by U+FFFD (docs/mcp.md,
// docs/security.md).
// Pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace cistern {

// Appends `in` to `out` with every maximal invalid subpart (Unicode's "substitution of maximal
// subparts": a truncated sequence, a stray continuation byte, an overlong form, a surrogate or a
// code point above U+10FFFF) replaced by U+FFFD. Valid input is appended unchanged.
void AppendValidUtf8(std::string* out, std::string_view in);

// `in` with invalid sequences replaced as by AppendValidUtf8.
std::string ValidUtf8(std::string_view in);

// True when `in` is valid UTF-8.
bool IsValidUtf8(std::string_view in);

}  // namespace cistern
