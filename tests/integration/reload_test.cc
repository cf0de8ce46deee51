// SIGHUP reload (docs/configuration.md "Reload"): live settings changed in the config file take
// effect while a loader keeps posting (no failed request, every acknowledged event stored); a
// setting that needs a restart is reported and keeps its value; a broken file keeps the
// running config, logs one line and is counted in /metrics.
#include <cstdio>
#include <set>

#include "integration/reload_fixture.h"
#include "support/prometheus_parser.h"

namespace cistern::testing {
namespace {

TEST_F(ReloadTest, LiveSettingsTakeEffectUnderLoadWithNoFailedRequest) {
  std::string tokens = Write("tokens", "old-token\nshared-token\n");
  auto config = [&](const std::string& extra) {
    return Write("cistern.toml", "auth-token-file = \"" + tokens + "\"\n" + extra);
  };
  // Unbounded at first, so that the test's own requests are never refused under load.
  auto unbounded = [&](const std::string& extra) { return config("max-backlog = 0\n" + extra); };
  std::string cfg = unbounded("max-batch-events = 10\nlog-level = \"warn\"\n");
  Start({"--config", cfg});
  Loader loader(server_->port(), "shared-token");

  EXPECT_EQ(Post(Events(8), "old-token"), 200);
  EXPECT_EQ(JsonInt(StatsBody(), "/config/reloads"), 0);
  const int64_t loaded_at = JsonInt(StatsBody(), "/config/loaded_at_ms");

  // At level warn the reload's own info line is not logged.
  unbounded("max-batch-events = 9\nlog-level = \"warn\"\n");
  Reload();
  EXPECT_EQ(server_->Log().find("config reloaded"), std::string::npos) << server_->Log();
  EXPECT_EQ(Post(Events(10), "old-token"), 413) << "max-batch-events 9 is in effect";

  // Tokens (the file is read again), the parse limit and the log level, all at once.
  Write("tokens", "new-token\nshared-token\n");
  unbounded("max-batch-events = 6\nlog-level = \"info\"\n");
  Reload();
  std::string log = server_->Log();
  EXPECT_NE(log.find("config reloaded: log-level warn -> info"), std::string::npos) << log;
  EXPECT_NE(log.find("auth-token-file (2 -> 2 token(s))"), std::string::npos) << log;
  EXPECT_NE(log.find("max-batch-events 9 -> 6"), std::string::npos) << log;
  EXPECT_EQ(log.find("new-token"), std::string::npos) << "tokens are never logged";
  EXPECT_EQ(Post(Events(1), "old-token"), 401);
  EXPECT_EQ(Post(Events(1), "new-token"), 200);
  EXPECT_EQ(Post(Events(7), "new-token"), 413);
  EXPECT_EQ(Post(Events(6), "new-token"), 200);
  std::string stats = StatsBody();
  EXPECT_EQ(JsonInt(stats, "/config/reloads"), 2);
  EXPECT_GE(JsonInt(stats, "/config/loaded_at_ms"), loaded_at);

  // The buffer bound: 10, below the backlog, refuses every request (503 + Retry-After; a
  // batch larger than the bound would be a 413), then unlimited again.
  ASSERT_GT(JsonInt(StatsBody(), "/store/backlog"), 10);
  config("max-batch-events = 6\nmax-backlog = 10\n");
  Reload();
  EXPECT_EQ(JsonInt(StatsBody(), "/store/max_backlog"), 10);
  auto r = client_->Post("/events", Events(1), {{"Authorization", "Bearer new-token"}});
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.Header("retry-after"), "1");
  const int64_t refused_before = loader.refused();
  for (int i = 0; i < 200 && loader.refused() == refused_before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(loader.refused(), refused_before) << "the loader saw the new bound";
  config("max-batch-events = 6\nmax-backlog = 0\n");
  Reload();
  EXPECT_EQ(JsonInt(StatsBody(), "/store/max_backlog"), 0);
  EXPECT_EQ(Post(Events(2), "new-token"), 200);

  loader.Stop();
  EXPECT_TRUE(loader.failures().empty())
      << loader.failures().size() << " failed, first: " << loader.failures().front();
  EXPECT_GT(loader.ids().size(), 0u);
  std::set<int64_t> stored;
  for (const auto& row : QueryRows(db(), "SELECT id FROM events"))
    stored.insert(std::stoll(row[0]));
  size_t missing = 0;
  for (int64_t id : loader.ids()) missing += stored.count(id) == 0;
  EXPECT_EQ(missing, 0u) << "of " << loader.ids().size() << " acknowledged ids";
  std::printf("loader: %lld requests, %zu events acknowledged, %lld refused with 503\n",
              static_cast<long long>(loader.requests()), loader.ids().size(),
              static_cast<long long>(loader.refused()));
}

TEST_F(ReloadTest, UploadIntervalTakesEffectAtOnce) {
  std::string cfg = Write("cistern.toml", "upload-interval = \"1h\"\n");
  Start({"--config", cfg, "--sink", "log"});
  ASSERT_EQ(client_->Post("/events", Events(3)).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(JsonInt(StatsBody(), "/store/backlog"), 3) << "nothing ships within the hour";

  Write("cistern.toml", "upload-interval = \"100ms\"\nupload-batch = 2\n");
  Reload();
  int64_t backlog = -1;
  for (int i = 0; i < 250 && backlog != 0; ++i) {
    backlog = JsonInt(StatsBody(), "/store/backlog");
    if (backlog != 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(backlog, 0) << server_->Log();
  EXPECT_NE(server_->Log().find("uploader: now batch=2 interval=100ms"), std::string::npos)
      << server_->Log();
}

TEST_F(ReloadTest, OnFullTakesEffect) {
  std::string cfg = Write("cistern.toml", "max-backlog = 4\n");
  Start({"--config", cfg});
  ASSERT_EQ(client_->Post("/events", Events(4)).status, 200);
  EXPECT_EQ(client_->Post("/events", Events(2)).status, 503) << "on-full reject";

  Write("cistern.toml", "max-backlog = 4\non-full = \"drop-oldest\"\n");
  Reload();
  EXPECT_EQ(client_->Post("/events", Events(2)).status, 200) << "the oldest make room";
  std::string stats = StatsBody();
  EXPECT_EQ(JsonString(stats, "/store/on_full"), "drop-oldest");
  EXPECT_EQ(JsonInt(stats, "/store/events_dropped"), 2);
  EXPECT_EQ(JsonInt(stats, "/store/backlog"), 4);
}

TEST_F(ReloadTest, RetainUploadedTakesEffect) {
  std::string cfg =
      Write("cistern.toml", "retain-uploaded = \"24h\"\nupload-interval = \"100ms\"\n");
  Start({"--config", cfg, "--sink", "log"});
  ASSERT_EQ(client_->Post("/events", Events(3)).status, 200);
  int64_t backlog = -1;
  for (int i = 0; i < 250 && backlog != 0; ++i) {
    backlog = JsonInt(StatsBody(), "/store/backlog");
    if (backlog != 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(backlog, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a retention pass or more
  EXPECT_EQ(Rows(), 3) << "shipped events are kept 24h";

  Write("cistern.toml", "retain-uploaded = \"0s\"\nupload-interval = \"100ms\"\n");
  Reload();
  int64_t rows = -1;
  for (int i = 0; i < 250 && rows != 0; ++i) {
    rows = Rows();
    if (rows != 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(rows, 0) << "retention deletes them at once now";
}

TEST_F(ReloadTest, ASettingThatNeedsARestartIsReportedAndKept) {
  std::string cfg = Write("cistern.toml", "mode = \"group\"\nmax-backlog = 5\n");
  Start({"--config", cfg});
  Write("cistern.toml", "mode = \"serialized\"\nindexed = true\nmax-backlog = 6\n");
  Reload();
  std::string log = server_->Log();
  EXPECT_NE(log.find("config reload: mode, indexed changed but needs a restart"), std::string::npos)
      << log;
  std::string stats = StatsBody();
  EXPECT_EQ(JsonString(stats, "/store/mode"), "group");
  EXPECT_EQ(JsonInt(stats, "/config/restart_pending"), 2);
  EXPECT_EQ(JsonInt(stats, "/store/max_backlog"), 6) << "the live setting still applies";
}

// OTLP/HTTP ingest reads the same limits as POST /events, so a reload reaches it too (it
// kept the start-up limits: docs/defects.md).
TEST_F(ReloadTest, OtlpIngestTakesTheReloadedLimits) {
  auto logs = [](int n) {
    std::string records;
    for (int i = 0; i < n; ++i) {
      if (i) records += ',';
      records += R"({"timeUnixNano":"1748722000000000000","body":{"stringValue":"r)" +
                 std::to_string(i) + R"("}})";
    }
    return R"({"resourceLogs":[{"resource":{"attributes":[{"key":"device.id","value":)"
           R"({"stringValue":"d"}}]},"scopeLogs":[{"logRecords":[)" +
           records + "]}]}]}";
  };
  auto post = [&](int n) {
    return client_->Post("/v1/logs", logs(n), {{"Content-Type", "application/json"}});
  };
  std::string cfg = Write("cistern.toml", "max-batch-events = 10\n");
  Start({"--config", cfg});
  auto r = post(3);
  EXPECT_EQ(r.status, 200) << r.body;

  Write("cistern.toml", "max-batch-events = 2\n");
  Reload();
  r = post(3);
  EXPECT_EQ(r.status, 413) << "max-batch-events 2 is in effect for OTLP too: " << r.body;
  EXPECT_NE(r.body.find("2"), std::string::npos) << r.body;
  r = post(2);
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(ReloadTest, ABrokenFileKeepsTheRunningConfigAndIsCounted) {
  std::string cfg = Write("cistern.toml", "max-backlog = 2\n");
  Start({"--config", cfg});
  const int64_t loaded_at = JsonInt(StatsBody(), "/config/loaded_at_ms");
  Write("cistern.toml", "max-backlog = 3\nmax-backlog = = 4\n");
  Reload();
  std::string log = server_->Log();
  EXPECT_EQ(Count(log, "config reload failed"), 1u) << log;
  const auto line_at = log.find("config reload failed");
  ASSERT_NE(line_at, std::string::npos);
  const std::string line = log.substr(line_at, log.find('\n', line_at) - line_at);
  EXPECT_NE(line.find(cfg), std::string::npos) << "names the file: " << line;
  std::string stats = StatsBody();
  EXPECT_EQ(JsonInt(stats, "/store/max_backlog"), 2);
  EXPECT_EQ(JsonInt(stats, "/config/reload_failures"), 1);
  EXPECT_EQ(JsonInt(stats, "/config/loaded_at_ms"), loaded_at);
  auto metrics = ParsePrometheus(client_->Get("/metrics").body);
  ASSERT_TRUE(metrics.ok()) << metrics.status().message();
  EXPECT_EQ(metrics->Value("cistern_config_reloads_total", {{"result", "error"}}), 1);
  EXPECT_EQ(metrics->Value("cistern_config_reloads_total", {{"result", "ok"}}), 0);

  // An invalid value (not only bad syntax) is refused the same way.
  Write("cistern.toml", "max-backlog = -7\n");
  Reload();
  EXPECT_EQ(JsonInt(StatsBody(), "/config/reload_failures"), 2);
  EXPECT_EQ(JsonInt(StatsBody(), "/store/max_backlog"), 2);

  Write("cistern.toml", "max-backlog = 7\n");
  Reload();
  stats = StatsBody();
  EXPECT_EQ(JsonInt(stats, "/store/max_backlog"), 7);
  EXPECT_EQ(JsonInt(stats, "/config/reloads"), 1);
  EXPECT_GT(JsonInt(stats, "/config/loaded_at_ms"), loaded_at);
  metrics = ParsePrometheus(client_->Get("/metrics").body);
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->Value("cistern_config_reloads_total", {{"result", "ok"}}), 1);
}

}  // namespace
}  // namespace cistern::testing
