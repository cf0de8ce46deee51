// Tests for ParseDuration, ParseSize and FormatDuration (src/common/duration.h).
#include "common/duration.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace cistern {
namespace {

using std::chrono::milliseconds;

TEST(ParseDurationTest, AcceptsEveryUnit) {
  struct Case {
    const char* text;
    milliseconds want;
  };
  const std::vector<Case> cases = {
      {"500ms", milliseconds(500)},      {"0ms", milliseconds(0)},
      {"1s", std::chrono::seconds(1)},   {"30s", std::chrono::seconds(30)},
      {"5m", std::chrono::minutes(5)},   {"24h", std::chrono::hours(24)},
      {"0h", milliseconds(0)},           {"1500ms", milliseconds(1500)},
      {"90m", std::chrono::minutes(90)},
  };
  for (const auto& c : cases) {
    Result<milliseconds> r = ParseDuration(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status().message();
    EXPECT_EQ(r.value(), c.want) << c.text;
  }
}

TEST(ParseDurationTest, NoUnitMeansSeconds) {
  Result<milliseconds> r = ParseDuration("30");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value(), std::chrono::seconds(30));
}

TEST(ParseDurationTest, RejectsMalformedText) {
  for (const char* text :
       {"",    "ms",      "s",     "-1s",  "-5",     "+1s", " 1s",   "1 s", "1s ",
        "1x",  "1sec",    "1S",    "1MS",  "abc",    "1s1", "0x10s", "1μs", "1.s",
        ".5s", "1.0005s", "30m1h", "1s1s", "1h 30m", "1.5", "1..5s"}) {
    Result<milliseconds> r = ParseDuration(text);
    ASSERT_FALSE(r.ok()) << "'" << text << "' parsed as " << r.value().count() << "ms";
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << text;
  }
}

TEST(ParseDurationTest, AcceptsCompoundFractionalAndDayDurations) {
  // Issue 16: 1h30m, 1.5s and 7d were rejected.
  struct Case {
    const char* text;
    int64_t ms;
  } cases[] = {{"1h30m", 5'400'000},   {"1.5s", 1500},    {"7d", 604'800'000}, {"2m30s", 150'000},
               {"1d12h", 129'600'000}, {"0.25m", 15'000}, {"1s500ms", 1500},   {"0.001s", 1}};
  for (const auto& c : cases) {
    Result<milliseconds> r = ParseDuration(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status().message();
    EXPECT_EQ(r.value().count(), c.ms) << c.text;
  }
}

TEST(ParseDurationTest, ErrorMessageNamesTheText) {
  Result<milliseconds> r = ParseDuration("7fortnights");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("7fortnights"), std::string::npos) << r.status().message();
}

TEST(ParseDurationTest, LargestRepresentableValueIsAccepted) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  Result<milliseconds> r = ParseDuration(std::to_string(max) + "ms");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value().count(), max);
}

TEST(ParseDurationTest, RejectsOverflow) {
  const uint64_t int64_max = std::numeric_limits<int64_t>::max();
  const std::vector<std::string> texts = {
      // One past int64: fits in uint64 but not in a milliseconds count.
      std::to_string(int64_max + 1) + "ms",
      // Does not fit in uint64 at all.
      "18446744073709551616ms",
      "99999999999999999999999999s",
      // Fits as a number, overflows once scaled.
      std::to_string(int64_max / 1000 + 1) + "s",
      std::to_string(int64_max / 3'600'000 + 1) + "h",
      std::to_string(std::numeric_limits<uint64_t>::max()) + "h",
  };
  for (const auto& text : texts) {
    Result<milliseconds> r = ParseDuration(text);
    ASSERT_FALSE(r.ok()) << text << " parsed as " << r.value().count() << "ms";
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << text;
  }
}

TEST(ParseDurationTest, LargestHourValueBelowOverflowIsAccepted) {
  const int64_t hours = std::numeric_limits<int64_t>::max() / 3'600'000;
  Result<milliseconds> r = ParseDuration(std::to_string(hours) + "h");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value(), std::chrono::hours(hours));
}

TEST(ParseSizeTest, AcceptsDocumentedUnits) {
  struct Case {
    const char* text;
    uint64_t want;
  };
  const std::vector<Case> cases = {
      {"0", 0},
      {"4096", 4096},
      {"17B", 17},
      {"64KiB", 64 * 1024},
      {"1MiB", 1024 * 1024},
      {"3GiB", 3ull * 1024 * 1024 * 1024},
      {"2KB", 2000},
      {"5MB", 5'000'000},
      {"7GB", 7'000'000'000ull},
      {"18446744073709551615", std::numeric_limits<uint64_t>::max()},
  };
  for (const auto& c : cases) {
    Result<uint64_t> r = ParseSize(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status().message();
    EXPECT_EQ(r.value(), c.want) << c.text;
  }
}

TEST(ParseSizeTest, RejectsMalformedText) {
  for (const char* text : {"", "B", "KiB", "-1", "-1KiB", "+5", "1.5MiB", " 1MiB", "1 MiB", "1MiB ",
                           "1kib", "1mb", "1TB", "1TiB", "1Kib", "1bytes", "12x"}) {
    Result<uint64_t> r = ParseSize(text);
    ASSERT_FALSE(r.ok()) << "'" << text << "' parsed as " << r.value();
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << text;
  }
}

// The header lists exactly B, KiB, MiB, GiB, KB, MB, GB and says anything else is an error.
// A bare "1G" is ambiguous (GiB or GB?), which is why the contract leaves it out.
TEST(ParseSizeTest, RejectsUnitsTheContractDoesNotList) {
  for (const char* text : {"1K", "1M", "1G"}) {
    Result<uint64_t> r = ParseSize(text);
    EXPECT_FALSE(r.ok()) << "'" << text << "' parsed as " << (r.ok() ? r.value() : 0);
  }
}

TEST(ParseSizeTest, RejectsOverflow) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  const std::vector<std::string> texts = {
      "18446744073709551616",  // uint64 max + 1
      std::to_string(max / 1024 + 1) + "KiB",
      std::to_string(max / (1ull << 30) + 1) + "GiB",
      std::to_string(max / 1'000'000'000 + 1) + "GB",
      std::to_string(max) + "B0",
  };
  for (const auto& text : texts) {
    Result<uint64_t> r = ParseSize(text);
    ASSERT_FALSE(r.ok()) << text << " parsed as " << r.value();
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << text;
  }
  // The largest multiple that still fits is accepted.
  Result<uint64_t> r = ParseSize(std::to_string(max / 1024) + "KiB");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value(), (max / 1024) * 1024);
}

TEST(FormatDurationTest, PicksTheLargestExactUnit) {
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(FormatDuration(milliseconds(1)), "1ms");
  EXPECT_EQ(FormatDuration(std::chrono::seconds(1)), "1s");
  EXPECT_EQ(FormatDuration(std::chrono::seconds(90)), "90s");
  EXPECT_EQ(FormatDuration(std::chrono::minutes(1)), "1m");
  EXPECT_EQ(FormatDuration(std::chrono::minutes(90)), "90m");
  EXPECT_EQ(FormatDuration(std::chrono::hours(1)), "1h");
  EXPECT_EQ(FormatDuration(std::chrono::hours(48)), "48h");
}

TEST(FormatDurationTest, ZeroIsFormattedAsSomethingParseable) {
  Result<milliseconds> r = ParseDuration(FormatDuration(milliseconds(0)));
  ASSERT_TRUE(r.ok()) << FormatDuration(milliseconds(0));
  EXPECT_EQ(r.value().count(), 0);
}

// FormatDuration is documented as the inverse of ParseDuration: check that for a spread of
// values that land in every unit, including the boundaries between them.
TEST(FormatDurationTest, RoundTripsThroughParseDuration) {
  std::vector<int64_t> values = {
      0,         1,         999,       1000,       1001,
      59'999,    60'000,    60'001,    61'000,     3'599'999,
      3'600'000, 3'660'000, 3'601'000, 86'400'000, std::numeric_limits<int64_t>::max()};
  for (int64_t v = 1; v < 10'000'000; v = v * 3 + 7) values.push_back(v);
  for (int64_t v : values) {
    std::string text = FormatDuration(milliseconds(v));
    Result<milliseconds> r = ParseDuration(text);
    ASSERT_TRUE(r.ok()) << v << " -> '" << text << "': " << r.status().message();
    EXPECT_EQ(r.value().count(), v) << "'" << text << "'";
  }
}

}  // namespace
}  // namespace cistern
