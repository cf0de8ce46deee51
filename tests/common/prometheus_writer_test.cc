#include "common/prometheus_writer.h"

#include <gtest/gtest.h>

#include "support/prometheus_parser.h"

namespace cistern {
namespace {

using testing::ParsePrometheus;

TEST(PrometheusWriter, WritesFamiliesTheStrictParserAccepts) {
  PrometheusWriter w;
  w.Counter("x_events_total", "Events", 42);
  w.Gauge("x_backlog", "Backlog", 7.5);
  w.Family("x_rejected_total", "counter", "By reason");
  w.Sample("x_rejected_total", int64_t{3}, {{"reason", "invalid"}});
  w.Sample("x_rejected_total", int64_t{0}, {{"reason", "too_large"}});
  auto parsed = ParsePrometheus(w.Take());
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->Value("x_events_total"), 42);
  EXPECT_EQ(parsed->Value("x_backlog"), 7.5);
  EXPECT_EQ(parsed->Value("x_rejected_total", {{"reason", "invalid"}}), 3);
  EXPECT_EQ(parsed->families.size(), 3u);
}

TEST(PrometheusWriter, EscapesLabelValuesAndHelp) {
  PrometheusWriter w;
  w.Family("x_info", "gauge", "Help with a \\ backslash\nand a newline");
  const std::string nasty = "a\"b\\c\nd";
  w.Sample("x_info", int64_t{1}, {{"node", nasty}});
  std::string text = w.Take();
  EXPECT_NE(text.find("Help with a \\\\ backslash\\nand a newline"), std::string::npos) << text;
  auto parsed = ParsePrometheus(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << text;
  EXPECT_EQ(parsed->families[0].samples[0].labels.at("node"), nasty);
}

TEST(PrometheusWriter, HistogramIsCumulativeInSecondsWithInfEqualToCount) {
  LatencyHistogram h;
  for (uint64_t us : {5u, 15u, 15u, 900u, 1500u, 70'000'000u}) h.Record(us);
  PrometheusWriter w;
  w.Histogram("x_seconds", "Durations", h.Take());
  std::string text = w.Take();
  auto parsed = ParsePrometheus(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << text;
  EXPECT_EQ(parsed->Value("x_seconds_bucket", {{"le", "1e-05"}}), 1);
  EXPECT_EQ(parsed->Value("x_seconds_bucket", {{"le", "2e-05"}}), 3);
  EXPECT_EQ(parsed->Value("x_seconds_bucket", {{"le", "0.001"}}), 4);
  EXPECT_EQ(parsed->Value("x_seconds_bucket", {{"le", "0.002"}}), 5);
  EXPECT_EQ(parsed->Value("x_seconds_bucket", {{"le", "60"}}), 5);
  EXPECT_EQ(parsed->Value("x_seconds_bucket", {{"le", "+Inf"}}), 6);
  EXPECT_EQ(parsed->Value("x_seconds_count"), 6);
  EXPECT_NEAR(parsed->Value("x_seconds_sum"), 70.002435, 1e-9);
}

// The parser must be able to fail: each of these is something Prometheus would refuse (or a
// convention of ours it checks).
TEST(PrometheusParser, RejectsMalformedExpositions) {
  const char* bad[] = {
      "# HELP a x\n# TYPE a counter\na 1",                              // no final newline
      "# TYPE a counter\na 1\n",                                        // TYPE without HELP
      "# HELP a x\n# TYPE a counter\nb 1\n",                            // sample of another family
      "# HELP a x\n# TYPE a counter\na -1\n",                           // negative counter
      "# HELP a x\n# TYPE a gauge\na one\n",                            // bad value
      "# HELP a x\n# TYPE a gauge\na{l=\"x} 1\n",                       // unterminated label value
      "# HELP a x\n# TYPE a gauge\na{l=\"\\q\"} 1\n",                   // bad escape
      "# HELP a x\n# TYPE a gauge\na{1l=\"x\"} 1\n",                    // bad label name
      "# HELP a x\n# TYPE a gauge\na 1\na 2\n",                         // duplicate series
      "# HELP a x\n# TYPE a gauge\n# HELP a x\n# TYPE a gauge\na 1\n",  // declared twice
      "# HELP a x\n# TYPE a gauge\n\na 1\n",                            // empty line
      "# HELP 9a x\n# TYPE 9a gauge\n9a 1\n",                           // bad metric name
      "# HELP a x\n# TYPE a gauge\n",                                   // family without samples
      "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
      "h_sum 1\nh_count 1\n",  // not cumulative
      "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
      "h_sum 1\nh_count 3\n",  // +Inf differs from _count
      "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",  // no +Inf
      "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",        // no _sum
  };
  for (const char* text : bad) {
    EXPECT_FALSE(ParsePrometheus(text).ok()) << "accepted:\n" << text;
  }
  EXPECT_TRUE(ParsePrometheus("# HELP a x\n# TYPE a gauge\na{l=\"v\",m=\"w\"} +Inf 123\n").ok());
}

}  // namespace
}  // namespace cistern
