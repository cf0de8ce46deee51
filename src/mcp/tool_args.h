// Reading a tools/call `arguments` object against what a tool accepts. Every failure is an
// InvalidArgument Status whose message names the argument; the server turns it into a
// JSON-RPC -32602 (invalid params) error. Pure functions; safe from any thread.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cistern::mcp {

// Fails when `args` holds a key not in `known` (a misspelt argument should not be ignored).
Status CheckKnownArgs(std::string_view tool, simdjson::dom::object args,
                      std::initializer_list<std::string_view> known);

// The string argument `key`: nullopt when absent and !required; fails when required and
// absent, or present with another type.
Result<std::optional<std::string>> StringArg(std::string_view tool, simdjson::dom::object args,
                                             std::string_view key, bool required);

// The integer argument `key` (absent -> nullopt); fails on another type, or outside
// [min, max].
Result<std::optional<int64_t>> IntArg(std::string_view tool, simdjson::dom::object args,
                                      std::string_view key, int64_t min, int64_t max);

}  // namespace cistern::mcp
