#include "common/duration.h"

#include <charconv>
#include <cstdio>
#include <limits>
#include <utility>

namespace cistern {
namespace {

// Splits "123abc" into 123 and "abc". Fails on a missing number or on overflow.
bool SplitNumber(std::string_view text, uint64_t* number, std::string_view* unit) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *number);
  if (ec != std::errc() || end == text.data()) return false;
  *unit = text.substr(end - text.data());
  return true;
}

bool MulOverflows(uint64_t a, uint64_t b) {
  return b != 0 && a > std::numeric_limits<uint64_t>::max() / b;
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("invalid duration '" + std::string(text) +
                                   "' (expected e.g. 500ms, 1.5s, 30s, 5m, 1h30m, 7d)");
  };
  // A bare integer means seconds.
  uint64_t n = 0;
  std::string_view unit;
  if (SplitNumber(text, &n, &unit) && unit.empty()) {
    if (MulOverflows(n, 1000) || n * 1000 > uint64_t{std::numeric_limits<int64_t>::max()}) {
      return bad();
    }
    return std::chrono::milliseconds(static_cast<int64_t>(n * 1000));
  }
  // Otherwise one or more <number>[.<fraction>]<unit>, units from largest to smallest, each
  // at most once: 1h30m, 1.5s, 7d, 2m30s, 250ms.
  static constexpr std::pair<std::string_view, uint64_t> kUnits[] = {
      {"ms", 1}, {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}};
  uint64_t total = 0;
  uint64_t last_scale = std::numeric_limits<uint64_t>::max();
  std::string_view rest = text;
  if (rest.empty()) return bad();
  while (!rest.empty()) {
    uint64_t whole = 0;
    if (!SplitNumber(rest, &whole, &rest)) return bad();
    uint64_t frac = 0, frac_div = 1;
    if (!rest.empty() && rest.front() == '.') {
      rest.remove_prefix(1);
      size_t digits = 0;
      while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
        if (digits >= 9) return bad();  // finer than anything we can keep
        frac = frac * 10 + static_cast<uint64_t>(rest[digits] - '0');
        frac_div *= 10;
        ++digits;
      }
      if (digits == 0) return bad();
      rest.remove_prefix(digits);
    }
    uint64_t scale = 0;
    for (const auto& [name, s] : kUnits) {
      if (rest.substr(0, name.size()) == name) {
        scale = s;
        rest.remove_prefix(name.size());
        break;
      }
    }
    if (scale == 0 || scale >= last_scale) return bad();
    last_scale = scale;
    // The fraction must come to whole milliseconds (1.5s yes, 1.0005s no).
    if ((frac * scale) % frac_div != 0) return bad();
    if (MulOverflows(whole, scale)) return bad();
    uint64_t part = whole * scale + frac * scale / frac_div;
    if (part > uint64_t{std::numeric_limits<int64_t>::max()} - total) return bad();
    total += part;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total));
}

Result<uint64_t> ParseSize(std::string_view text) {
  uint64_t n = 0;
  std::string_view unit;
  auto bad = [&] {
    return Status::InvalidArgument("invalid size '" + std::string(text) +
                                   "' (expected e.g. 4096, 64KiB, 1MiB)");
  };
  if (!SplitNumber(text, &n, &unit)) return bad();
  static constexpr std::pair<std::string_view, uint64_t> kUnits[] = {
      {"", 1},      {"B", 1},         {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30},
      {"KB", 1000}, {"MB", 1000'000}, {"GB", 1000'000'000}};
  for (const auto& [name, scale] : kUnits) {
    if (unit == name) {
      if (MulOverflows(n, scale)) return bad();
      return n * scale;
    }
  }
  return bad();
}

std::string FormatSize(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  return buf;
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace cistern
