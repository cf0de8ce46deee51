// GET /metrics: the Prometheus exposition of a real collector, checked by a strict parser
// (tests/support/prometheus_parser.h) and by Prometheus's own `promtool check metrics`, with
// figures that must equal what the test did to the collector.
#include <chrono>
#include <fstream>
#include <thread>

#include "common/clock.h"
#include "support/prometheus_parser.h"
#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

class MetricsTest : public ServerTest {
 protected:
  PromExposition Scrape(const std::map<std::string, std::string>& headers = {}) {
    auto r = client_->Request("GET", "/metrics", "", headers);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    last_ = r.body;
    auto parsed = ParsePrometheus(r.body);
    EXPECT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << r.body;
    return parsed.ok() ? *parsed : PromExposition{};
  }
  // Prometheus's own checker (Debian's prometheus package, installed by scripts/install-deps).
  void ExpectPromtoolAccepts(const std::string& text) {
    std::string path = dir_.File("metrics.txt");
    std::ofstream(path) << text;
    RunResult r = RunProgram({"/bin/sh", "-c", "promtool check metrics < '" + path + "'"},
                             std::chrono::seconds(30));
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
  std::string last_;
};

TEST_F(MetricsTest, FiguresEqualWhatHappenedAndTheFormatIsValid) {
  Start({"--max-backlog", "5", "--max-body-bytes", "300"});
  auto post = [&](const std::string& body, std::map<std::string, std::string> headers = {}) {
    return client_->Post("/events", body, headers).status;
  };
  const std::string ev = R"({"device_id":"d1","kind":"t"})";
  EXPECT_EQ(post("[" + ev + "," + ev + "," + ev + "]"), 200);
  EXPECT_EQ(post("[" + ev + "," + R"({"device_id":"d2","kind":"t"})" + "]"), 200);
  EXPECT_EQ(post(ev), 503);                                // backlog at --max-backlog
  EXPECT_EQ(post("{not json"), 400);                       // invalid
  EXPECT_EQ(post(std::string(400, ' ') + ev), 413);        // over --max-body-bytes
  EXPECT_EQ(post(ev, {{"Content-Encoding", "br"}}), 415);  // unsupported encoding
  EXPECT_EQ(client_->Get("/nope").status, 404);

  PromExposition m = Scrape();
  EXPECT_EQ(m.Value("cistern_events_written_total"), 5);
  EXPECT_EQ(m.Value("cistern_events_accepted_total"), 5);
  EXPECT_EQ(m.Value("cistern_backlog_events"), 5);
  EXPECT_EQ(m.Value("cistern_backlog_limit_events"), 5);
  EXPECT_EQ(m.Value("cistern_devices_seen"), 2);
  EXPECT_EQ(m.Value("cistern_events_dropped_total"), 0);
  EXPECT_EQ(m.Value("cistern_requests_rejected_total", {{"reason", "buffer_full"}}), 1);
  EXPECT_EQ(m.Value("cistern_requests_rejected_total", {{"reason", "invalid"}}), 1);
  EXPECT_EQ(m.Value("cistern_requests_rejected_total", {{"reason", "too_large"}}), 1);
  EXPECT_EQ(m.Value("cistern_requests_rejected_total", {{"reason", "unsupported_encoding"}}), 1);
  EXPECT_EQ(m.Value("cistern_requests_rejected_total", {{"reason", "unavailable"}}), 0);
  EXPECT_EQ(m.Value("cistern_requests_rejected_total", {{"reason", "disk_full"}}), 0);
  // By exact code (issue 16: were buckets such as 404_405).
  EXPECT_EQ(m.Value("cistern_http_requests_total", {{"code", "200"}}), 2);
  EXPECT_EQ(m.Value("cistern_http_requests_total", {{"code", "400"}}), 1);
  EXPECT_EQ(m.Value("cistern_http_requests_total", {{"code", "404"}}), 1);
  EXPECT_EQ(m.Value("cistern_http_requests_total", {{"code", "413"}}), 1);
  EXPECT_EQ(m.Value("cistern_http_requests_total", {{"code", "415"}}), 1);
  EXPECT_EQ(m.Value("cistern_http_requests_total", {{"code", "503"}}), 1);
  for (const PromFamily& f : m.families) {
    for (const PromSample& sample : f.samples) {
      if (sample.name != "cistern_http_requests_total") continue;
      const std::string code = sample.labels.at("code");
      EXPECT_TRUE(code.size() == 3 && code.find_first_not_of("0123456789") == std::string::npos)
          << code;
      EXPECT_NE(code, "500") << "none was answered";
    }
  }
  // Every POST the router answered is timed, refusals included (issue 16: only the 200s
  // were): 2 accepted, the 503, the 400 and the 415. The 413 was refused while the body was
  // read, before any route.
  EXPECT_EQ(m.Value("cistern_http_request_duration_seconds_count", {{"route", "/events"}}), 5);
  EXPECT_EQ(m.Value("cistern_http_request_duration_seconds_count", {{"route", "/v1/logs"}}), 0);
  const double commits = m.Value("cistern_commits_total");
  EXPECT_GE(commits, 2);
  EXPECT_EQ(m.Value("cistern_commit_duration_seconds_count"), commits);
  EXPECT_GT(m.Value("cistern_commit_duration_seconds_sum"), 0);
  EXPECT_GT(m.Value("cistern_db_bytes"), 0);
  // The pages in use, without --max-db-bytes too (issue 16: was 0 without it).
  EXPECT_GT(m.Value("cistern_db_used_bytes"), 0);
  EXPECT_LE(m.Value("cistern_db_used_bytes"), m.Value("cistern_db_bytes"));
  EXPECT_EQ(m.Value("cistern_db_limit_bytes"), 0);
  EXPECT_FALSE(m.Has("cistern_uploader_healthy")) << "--sink none runs no uploader";
  ExpectPromtoolAccepts(last_);

  // Counters only go up between scrapes.
  EXPECT_EQ(post(std::string("{bad")), 400);
  PromExposition again = Scrape();
  EXPECT_EQ(again.Value("cistern_requests_rejected_total", {{"reason", "invalid"}}), 2);
  EXPECT_EQ(again.Value("cistern_events_written_total"), 5);
}

TEST_F(MetricsTest, UploaderFamiliesShowAFailingSinkAndTheOldestPendingAge) {
  // Port 1 on loopback refuses connections: every upload cycle fails.
  Start({"--sink", "webhook", "--webhook-url", "http://127.0.0.1:1/ingest", "--upload-interval",
         "100ms", "--retry-max-backoff", "200ms", "--drain-timeout", "0s"});
  const int64_t minute_ago = UnixMillis() - 60'000;
  ASSERT_EQ(client_
                ->Post("/events",
                       R"({"device_id":"old","kind":"t","ts":)" + std::to_string(minute_ago) + "}")
                .status,
            200);
  PromExposition m;
  for (int i = 0; i < 100; ++i) {
    m = Scrape();
    if (m.Has("cistern_upload_failures_total") && m.Value("cistern_upload_failures_total") >= 2) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(m.Value("cistern_upload_failures_total"), 2);
  EXPECT_GE(m.Value("cistern_upload_runs_total"), m.Value("cistern_upload_failures_total"));
  EXPECT_EQ(m.Value("cistern_uploader_healthy", {{"sink", "webhook"}}), 0);
  EXPECT_GE(m.Value("cistern_upload_consecutive_failures"), 2);
  EXPECT_EQ(m.Value("cistern_upload_last_success_timestamp_seconds"), 0);
  const double age = m.Value("cistern_oldest_pending_age_seconds");
  EXPECT_GE(age, 59.9);
  EXPECT_LT(age, 300);
  EXPECT_EQ(m.Value("cistern_events_uploaded_total"), 0);
  ExpectPromtoolAccepts(last_);
}

TEST_F(MetricsTest, TheAdminTokenProtectsMetrics) {
  std::string tokens = dir_.File("admin");
  std::ofstream(tokens) << "metrics-secret\n";
  Start({"--admin-token-file", tokens});
  auto r = client_->Get("/metrics");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("www-authenticate"), "Bearer realm=\"cistern\"");
  PromExposition m = Scrape({{"Authorization", "Bearer metrics-secret"}});
  EXPECT_EQ(m.Value("cistern_requests_rejected_total", {{"reason", "unauthorized"}}), 0)
      << "a 401 on /metrics is not a rejected event request";
}

}  // namespace
}  // namespace cistern::testing
