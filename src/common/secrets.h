// Secrets helpers: constant-time comparison and bearer-token files. Pure; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cistern {

// True when a == b, in time that depends only on the lengths (not on where they differ), so
// a client cannot guess a token byte by byte from response times.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// True when `authorization` is "Bearer <t>" (scheme in any case) for one of `tokens`. Every token
// is compared (no early exit), each in constant time.
bool BearerMatches(std::string_view authorization, const std::vector<std::string>& tokens);

// Reads tokens from a file: one per line; blank lines and lines starting with '#' are
// skipped; surrounding whitespace is trimmed. InvalidArgument when the file cannot be read
// or holds no token.
Result<std::vector<std::string>> ReadTokenFile(const std::string& path);

}  // namespace cistern
