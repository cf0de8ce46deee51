// Parsing of human-friendly durations ("500ms", "1s", "24h") and sizes ("64KiB", "1MiB", "4096").
// Pure functions; safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cistern {

// Accepts a bare unsigned integer (seconds), or one or more <number>[.<fraction>]<unit> with
// units ms, s, m, h, d from largest to smallest, each at most once: 500ms, 1.5s, 1h30m, 7d.
// A fraction must come to whole milliseconds. Returns InvalidArgument naming the text on
// anything else (negative, empty, unknown or repeated unit, overflow).
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// Accepts an unsigned integer followed by B, KiB, MiB, GiB, KB, MB, GB (or no unit = bytes).
// Returns InvalidArgument on anything else, or when the value overflows 64 bits.
Result<uint64_t> ParseSize(std::string_view text);

// 900 -> "900 B", 12288 -> "12.0 KiB", 3<<30 -> "3.0 GiB": a size for people to read.
std::string FormatSize(uint64_t bytes);

// "1500ms" -> "1500ms", 60000ms -> "1m"; the inverse of ParseDuration for display.
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace cistern
