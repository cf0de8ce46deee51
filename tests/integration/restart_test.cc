// Restart: events acknowledged before a clean stop *and* before a kill -9 are all there after
// restart, ids continue upward, and the backlog gauge is restored from the file.

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

class RestartTest : public ServerTest {
 protected:
  // Posts `n` single events and a batch of 10; returns every acknowledged id.
  std::vector<int64_t> PostSome(int n) {
    std::vector<int64_t> acked;
    for (int i = 0; i < n; ++i) {
      auto r = client_->Post("/events", R"({"device_id":"dev-)" + std::to_string(i % 3) +
                                            R"(","kind":"t","payload":{"i":)" + std::to_string(i) +
                                            "}}");
      EXPECT_EQ(r.status, 200) << r.body;
      for (int64_t id : ParseIds(r.body)) acked.push_back(id);
    }
    std::string batch = "[";
    for (int i = 0; i < 10; ++i)
      batch += std::string(i ? "," : "") + R"({"device_id":"b","kind":"t"})";
    auto r = client_->Post("/events", batch + "]");
    EXPECT_EQ(r.status, 200) << r.body;
    for (int64_t id : ParseIds(r.body)) acked.push_back(id);
    return acked;
  }

  void ExpectAllStored(const std::vector<int64_t>& acked) {
    std::set<int64_t> on_disk;
    for (const auto& row : QueryRows(db(), "SELECT id FROM events")) {
      on_disk.insert(std::stoll(row[0]));
    }
    for (int64_t id : acked) EXPECT_TRUE(on_disk.count(id)) << "acknowledged id " << id << " lost";
    EXPECT_EQ(on_disk.size(), acked.size());
    EXPECT_EQ(QueryRows(db(), "PRAGMA integrity_check")[0][0], "ok");
  }

  void Restart() {
    client_.reset();
    server_.reset();
    Start();
  }
};

TEST_F(RestartTest, CleanStopKeepsEverythingAndIdsContinue) {
  Start();
  auto acked = PostSome(20);
  client_.reset();
  ASSERT_EQ(server_->Stop(), 0) << server_->Log();
  server_.reset();
  // A clean stop folds the WAL into the main file.
  ExpectAllStored(acked);
  Start();
  auto stats = client_->Get("/stats");
  EXPECT_EQ(JsonInt(stats.body, "/store/events_written"), 30);
  EXPECT_EQ(JsonInt(stats.body, "/store/backlog"), 30);
  EXPECT_EQ(JsonInt(stats.body, "/store/devices_seen"), 4);
  auto more = PostSome(1);
  EXPECT_GT(more.front(), *std::max_element(acked.begin(), acked.end()));
}

TEST_F(RestartTest, KillNineLosesNothingAcknowledged) {
  Start();
  auto acked = PostSome(25);
  server_->Kill9();  // no shutdown code runs: only what was fsynced survives
  server_.reset();
  ExpectAllStored(acked);
  Start();
  auto stats = client_->Get("/stats");
  EXPECT_EQ(JsonInt(stats.body, "/store/events_written"), 35);
  EXPECT_EQ(JsonInt(stats.body, "/store/backlog"), 35);
  auto more = PostSome(1);
  EXPECT_GT(more.front(), *std::max_element(acked.begin(), acked.end()));
  ExpectAllStored([&] {
    auto all = acked;
    all.insert(all.end(), more.begin(), more.end());
    return all;
  }());
}

TEST_F(RestartTest, BacklogGaugeIsRestoredFromTheFile) {
  Start();
  PostSome(10);
  client_.reset();
  ASSERT_EQ(server_->Stop(), 0);
  server_.reset();
  // Ship some events behind the collector's back, as the uploader's bookkeeping would: the
  // cursor moves and the devices' pending counts drop in one transaction.
  ASSERT_TRUE(ExecSql(db(),
                      "BEGIN; UPDATE meta SET value = '7' WHERE key = 'upload_cursor';"
                      "UPDATE devices SET pending = (SELECT count(*) FROM event_log WHERE "
                      "device_id = device_key AND id > 7); COMMIT;"));
  int64_t pending = QueryInt(db(), "SELECT count(*) FROM pending_events");
  ASSERT_EQ(pending, 13);
  Start();
  auto stats = client_->Get("/stats");
  EXPECT_EQ(JsonInt(stats.body, "/store/backlog"), pending);
  EXPECT_EQ(JsonInt(stats.body, "/store/events_written"), 20);
}

TEST_F(RestartTest, SigtermFinishesInFlightRequestsBeforeExiting) {
  Start();
  std::atomic<bool> stop{false};
  std::vector<std::thread> producers;
  std::mutex mu;
  std::vector<int64_t> acked;
  for (int t = 0; t < 8; ++t) {
    producers.emplace_back([&, t] {
      HttpClient c("127.0.0.1", server_->port());
      while (!stop) {
        auto r = c.Post("/events", R"({"device_id":"p)" + std::to_string(t) + R"(","kind":"t"})");
        if (r.status != 200) break;  // the server is going away: an unanswered request is fine
        std::lock_guard lock(mu);
        for (int64_t id : ParseIds(r.body)) acked.push_back(id);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int code = server_->Stop();
  stop = true;
  for (auto& p : producers) p.join();
  server_.reset();
  EXPECT_EQ(code, 0);
  ASSERT_GT(acked.size(), 0u);
  ExpectAllStored(acked);
}

// Issue 16.5: a clean stop removes -wal and -shm (docs/storage.md), with an uploader too:
// its read connection must be closed before the writer's final checkpoint.
TEST_F(RestartTest, ACleanStopLeavesNoWalOrShmWithOrWithoutAnUploader) {
  for (const char* sink : {"none", "log"}) {
    Start({"--sink", sink, "--upload-interval", "50ms"});
    PostSome(5);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ASSERT_EQ(server_->Stop(), 0) << server_->Log();
    server_.reset();
    EXPECT_FALSE(std::filesystem::exists(db() + "-wal")) << "--sink " << sink;
    EXPECT_FALSE(std::filesystem::exists(db() + "-shm")) << "--sink " << sink;
  }
}

}  // namespace
}  // namespace cistern::testing
