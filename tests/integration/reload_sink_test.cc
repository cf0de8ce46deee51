// SIGHUP reload of the sink (docs/configuration.md "Reload"): under continuous ingest the
// uploader switches sinks (webhook A -> webhook B, log -> webhook) without losing or skipping
// an event: the old sink gets every batch up to the store's upload cursor, the new one every
// batch after it. A failing old sink is left at once, not after its backoff. A new sink that
// cannot be built fails the reload as a whole and the old one keeps shipping. Real webhook
// receivers on 127.0.0.1 (support/http_receiver.h).
#include <algorithm>
#include <cstdio>
#include <regex>
#include <set>

#include "integration/reload_fixture.h"
#include "support/http_receiver.h"
#include "support/prometheus_parser.h"

namespace cistern::testing {
namespace {

class ReloadSinkTest : public ReloadTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(a_.Start().ok());
    ASSERT_TRUE(b_.Start().ok());
  }
  // Writes the config file: an unbounded buffer, fast uploads, `sink` lines.
  std::string Config(const std::string& sink, const std::string& extra = "") {
    return Write("cistern.toml",
                 "max-backlog = 0\nupload-interval = \"50ms\"\nupload-batch = 40\n" + sink + extra);
  }
  static std::string Webhook(const HttpReceiver& r, const std::string& path) {
    return "sink = \"webhook\"\nwebhook-url = \"" + r.Url(path) + "\"\n";
  }
  // The id after which the uploader's last sink switch resumed ("shipping resumes after id
  // N"); -1 when the log has no such line.
  int64_t ResumedAfter() {
    static const std::regex line(
        "uploader: sink now \\w+ \\(was \\w+\\); shipping resumes after id "
        "(\\d+)");
    const std::string log = server_->Log();
    int64_t id = -1;
    for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it) {
      id = std::stoll((*it)[1]);
    }
    return id;
  }
  // Reloads with webhook B as the sink while `loader` posts; once B took 30 batches, stops the
  // loader and waits until everything acknowledged is shipped.
  void SwitchToBThenDrain(Loader& loader) {
    Config(Webhook(b_, "/b"));
    Reload();
    ASSERT_TRUE(WaitFor([&] { return b_.Count() >= 30; })) << server_->Log();
    loader.Stop();
    ASSERT_TRUE(WaitFor([&] { return JsonInt(StatsBody(), "/store/backlog") == 0; }))
        << server_->Log();
    EXPECT_TRUE(loader.failures().empty()) << loader.failures().front();
  }

  HttpReceiver a_, b_;
};

TEST_F(ReloadSinkTest, WebhookAToWebhookBUnderLoadLosesNothing) {
  StartWithFile(Config(Webhook(a_, "/a")));
  Loader loader(server_->port(), "");
  ASSERT_TRUE(WaitFor([&] { return a_.Count() >= 30; })) << server_->Log();

  ASSERT_NO_FATAL_FAILURE(SwitchToBThenDrain(loader));
  const std::vector<int64_t> at_a = AcceptedEventIds(a_), at_b = AcceptedEventIds(b_);
  ASSERT_FALSE(at_a.empty());
  ASSERT_FALSE(at_b.empty());
  std::set<int64_t> delivered(at_a.begin(), at_a.end());
  delivered.insert(at_b.begin(), at_b.end());
  size_t missing = 0;
  for (int64_t id : loader.ids()) missing += delivered.count(id) == 0;
  EXPECT_EQ(missing, 0u) << "of " << loader.ids().size() << " acknowledged ids";
  // A got everything up to the cursor at the switch, B everything after it: no gap, no
  // overlap (nothing failed, so nothing was re-shipped).
  const int64_t cursor = ResumedAfter();
  ASSERT_GT(cursor, 0) << server_->Log();
  EXPECT_EQ(*std::max_element(at_a.begin(), at_a.end()), cursor);
  EXPECT_EQ(*std::min_element(at_b.begin(), at_b.end()), cursor + 1);
  for (const auto& r : a_.Requests()) EXPECT_EQ(r.status, 200);
  for (const auto& r : b_.Requests()) EXPECT_EQ(r.status, 200);

  // What is in effect is what /stats and the reload's log line say.
  const std::string stats = StatsBody();
  EXPECT_EQ(JsonString(stats, "/uploader/sink"), "webhook");
  EXPECT_EQ(JsonInt(stats, "/config/reloads"), 1);
  EXPECT_EQ(JsonInt(stats, "/config/restart_pending"), 0);
  EXPECT_NE(
      server_->Log().find("config reloaded: webhook-url " + a_.Url("/a") + " -> " + b_.Url("/b")),
      std::string::npos)
      << server_->Log();
  std::printf(
      "switch A -> B under load: %zu events acknowledged, A %zu, B %zu, resumed after %lld\n",
      loader.ids().size(), at_a.size(), at_b.size(), static_cast<long long>(cursor));
}

TEST_F(ReloadSinkTest, LogToWebhookUnderLoadLosesNothing) {
  StartWithFile(Config("sink = \"log\"\n"));
  Loader loader(server_->port(), "");
  ASSERT_TRUE(WaitFor([&] { return JsonInt(StatsBody(), "/store/upload_cursor") > 1000; }));

  ASSERT_NO_FATAL_FAILURE(SwitchToBThenDrain(loader));
  const int64_t cursor = ResumedAfter();
  ASSERT_GT(cursor, 0) << server_->Log();
  const std::vector<int64_t> at_b = AcceptedEventIds(b_);
  ASSERT_FALSE(at_b.empty());
  EXPECT_EQ(*std::min_element(at_b.begin(), at_b.end()), cursor + 1);
  // Up to the cursor the log sink shipped them; every later one reached the webhook.
  const std::set<int64_t> delivered(at_b.begin(), at_b.end());
  size_t missing = 0;
  for (int64_t id : loader.ids()) missing += id > cursor && delivered.count(id) == 0;
  EXPECT_EQ(missing, 0u) << "of " << loader.ids().size() << " acknowledged ids";
  EXPECT_GE(JsonInt(StatsBody(), "/store/upload_cursor"),
            *std::max_element(loader.ids().begin(), loader.ids().end()));
  EXPECT_EQ(JsonString(StatsBody(), "/uploader/sink"), "webhook");
  EXPECT_NE(server_->Log().find("config reloaded: sink log -> webhook; webhook-url \"\" -> " +
                                b_.Url("/b")),
            std::string::npos)
      << server_->Log();
}

TEST_F(ReloadSinkTest, AFailingSinkIsLeftAtOnceNotAfterItsBackoff) {
  a_.SetStatus(503);
  StartWithFile(Config(Webhook(a_, "/a"), "retry-max-backoff = \"60s\"\n"));
  auto posted = client_->Post("/events", Events(3));
  ASSERT_EQ(posted.status, 200);
  // Backoff 0.5 s doubling: the fifth failure waits at least 4 s.
  ASSERT_TRUE(WaitFor([&] { return JsonInt(StatsBody(), "/uploader/backoff_ms") >= 4000; },
                      std::chrono::seconds(20)))
      << server_->Log();
  const size_t failed_at_a = a_.Count();

  Config(Webhook(b_, "/b"), "retry-max-backoff = \"60s\"\n");
  const auto reloaded = std::chrono::steady_clock::now();
  Reload();
  ASSERT_TRUE(WaitFor([&] { return b_.Count() >= 1; }, std::chrono::seconds(10)));
  const auto waited = std::chrono::steady_clock::now() - reloaded;
  EXPECT_LT(waited, std::chrono::milliseconds(2500)) << "the backoff wait ended at the switch";
  const std::vector<int64_t> at_b = AcceptedEventIds(b_);
  EXPECT_EQ(at_b, ParseIds(posted.body)) << "the batch A refused went to B";
  EXPECT_EQ(a_.Count(), failed_at_a) << "nothing more went to A";
  ASSERT_TRUE(WaitFor([&] { return JsonInt(StatsBody(), "/uploader/consecutive_failures") == 0; }));
  std::printf("failing A -> B: B got the batch %lld ms after SIGHUP\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()));
}

TEST_F(ReloadSinkTest, ANewSinkThatCannotBeBuiltFailsTheReloadAndTheOldOneShips) {
  StartWithFile(Config(Webhook(a_, "/a")));
  const int64_t loaded_at = JsonInt(StatsBody(), "/config/loaded_at_ms");
  int failures = 0;
  for (const std::string bad : {"sink = \"webhook\"\nwebhook-url = \"ftp://127.0.0.1/x\"\n",
                                "sink = \"mqtt\"\nmqtt-url = \"http://127.0.0.1:1883\"\n"}) {
    // With a live setting beside it: a failed reload applies nothing at all.
    Config(bad, "on-full = \"drop-oldest\"\n");
    Reload();
    ++failures;
    const std::string log = server_->Log();
    EXPECT_EQ(Count(log, "config reload failed"), static_cast<size_t>(failures)) << log;
    const std::string stats = StatsBody();
    EXPECT_EQ(JsonInt(stats, "/config/reload_failures"), failures);
    EXPECT_EQ(JsonInt(stats, "/config/reloads"), 0);
    EXPECT_EQ(JsonInt(stats, "/config/loaded_at_ms"), loaded_at);
    EXPECT_EQ(JsonString(stats, "/store/on_full"), "reject") << "on-full was not applied";
    EXPECT_EQ(JsonString(stats, "/uploader/sink"), "webhook");
  }
  const std::string log = server_->Log();
  EXPECT_NE(log.find("config reload failed, keeping the running config: --sink webhook: "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("config reload failed, keeping the running config: --sink mqtt: "),
            std::string::npos)
      << log;
  auto metrics = ParsePrometheus(client_->Get("/metrics").body);
  ASSERT_TRUE(metrics.ok()) << metrics.status().message();
  EXPECT_EQ(metrics->Value("cistern_config_reloads_total", {{"result", "error"}}), 2);

  // The old sink still ships.
  auto r = client_->Post("/events", Events(4));
  ASSERT_EQ(r.status, 200);
  const std::vector<int64_t> ids = ParseIds(r.body);
  ASSERT_TRUE(WaitFor([&] {
    const std::vector<int64_t> at_a = AcceptedEventIds(a_);
    return std::count(at_a.begin(), at_a.end(), ids.back()) > 0;
  })) << server_->Log();
  EXPECT_EQ(b_.Count(), 0u);
}

}  // namespace
}  // namespace cistern::testing
