// The buffer's lifecycle over HTTP against the real binary (docs/lifecycle.md): ids are never
// reused whatever was deleted and however the collector stopped, the upload_runs audit stays
// bounded, eviction happens only to admit arriving events, and the comparison write modes
// deliver every acknowledged event.
#include <simdjson.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "support/http_receiver.h"
#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

class LifecycleTest : public ServerTest {
 protected:
  // A JSON array of `n` events whose payloads are about `bytes` long.
  static std::string BigEvents(int n, size_t bytes, const std::string& device = "big") {
    std::string out = "[";
    for (int i = 0; i < n; ++i) {
      if (i) out += ',';
      out += R"({"device_id":")" + device + R"(","kind":"t","payload":{"blob":")" +
             std::string(bytes, static_cast<char>('a' + i % 26)) + "\"}}";
    }
    return out + "]";
  }
  int64_t Stat(const char* pointer) { return JsonInt(client_->Get("/stats").body, pointer); }
  template <typename P>
  bool Eventually(P pred, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return pred();
  }
  // Restarts the collector after a kill -9 with the same flags.
  void CrashAndRestart(const std::vector<std::string>& flags) {
    client_.reset();
    server_->Kill9();
    server_.reset();
    Start(flags);
  }
};

// Shipped events deleted to make room (the size bound), the newest row among them, then
// kill -9: the next event must not get an id that was already shipped (JetStream and webhook
// receivers de-duplicate on it and would drop the new event silently). Two batches arrive
// within one upload interval; the second needs room; both ship in one cycle.
TEST_F(LifecycleTest, IdsAreNeverReusedAfterTheSizeBoundDeletedTheNewestRowAndACrash) {
  const std::vector<std::string> flags = {
      "--sink",         "log",    "--upload-interval", "2s",
      "--max-db-bytes", "128KiB", "--on-full",         "drop-oldest"};
  Start(flags);
  auto a = client_->Post("/events", BigEvents(12, 5000));
  ASSERT_EQ(a.status, 200) << a.body;
  auto b = client_->Post("/events", BigEvents(12, 5000, "more"));
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(ParseIds(b.body).back(), 24);
  ASSERT_TRUE(Eventually([&] { return Stat("/store/backlog") == 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // later groups, retention
  CrashAndRestart(flags);
  auto next = client_->Post("/events", R"({"device_id":"after","kind":"t"})");
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(ParseIds(next.body)[0], 25) << "an id was reused after a crash";
}

// Retention deletes every shipped event at once (--retain-uploaded 0): the newest row goes too.
TEST_F(LifecycleTest, IdsAreNeverReusedAfterRetentionEmptiedTheTableAndACrash) {
  const std::vector<std::string> flags = {
      "--sink", "log", "--upload-interval", "20ms", "--retain-uploaded", "0"};
  Start(flags);
  ASSERT_EQ(client_->Post("/events", BigEvents(5, 100)).status, 200);
  ASSERT_TRUE(Eventually([&] { return Rows() == 0; })) << "retention never ran";
  CrashAndRestart(flags);
  auto next = client_->Post("/events", R"({"device_id":"after","kind":"t"})");
  ASSERT_EQ(next.status, 200);
  EXPECT_EQ(ParseIds(next.body)[0], 6);
}

// A failing sink retried fast must not add a row per attempt: identical consecutive failures
// fold into one row with a count and the first/last time.
TEST_F(LifecycleTest, UploadRunsStayBoundedWhileTheSinkFailsFast) {
  HttpReceiver down;
  ASSERT_TRUE(down.Start().ok());
  down.GoDown();  // connection refused, the port kept
  Start({"--sink", "webhook", "--webhook-url", down.Url("/in"), "--upload-interval", "10ms",
         "--retry-max-backoff", "10ms"});
  ASSERT_EQ(client_->Post("/events", R"({"device_id":"a","kind":"t"})").status, 200);
  ASSERT_TRUE(Eventually([&] { return Stat("/uploader/failures") >= 40; }));
  int64_t failures = Stat("/uploader/failures");
  int64_t rows = QueryInt(db(), "SELECT count(*) FROM upload_runs");
  EXPECT_LE(rows, 2) << "one audit row per failed attempt (" << failures << " failures)";
  auto folded = QueryRows(db(),
                          "SELECT status, attempts, finished_at > started_at, error FROM "
                          "upload_runs ORDER BY id DESC LIMIT 1");
  ASSERT_EQ(folded.size(), 1u);
  EXPECT_EQ(folded[0][0], "error");
  EXPECT_GE(std::stoll(folded[0][1]), failures - 2);
  EXPECT_EQ(folded[0][2], "1") << "first and last attempt times";
  EXPECT_NE(folded[0][3].find("onnect"), std::string::npos) << folded[0][3];
}

// Eviction exists to admit arriving events. With the sink down and the file at its bound,
// upload cycles, failure records and retention must not evict anything while nothing arrives.
TEST_F(LifecycleTest, NothingIsEvictedWhileNothingArrives) {
  HttpReceiver down;
  ASSERT_TRUE(down.Start().ok());
  down.GoDown();
  Start({"--sink", "webhook", "--webhook-url", down.Url("/in"), "--upload-interval", "20ms",
         "--retry-max-backoff", "20ms", "--on-full", "drop-oldest", "--max-db-bytes", "160KiB"});
  ASSERT_EQ(client_->Post("/events", BigEvents(12, 6000, "a")).status, 200);
  // The second batch does not fit beside the first: arriving, it evicts the oldest events.
  ASSERT_EQ(client_->Post("/events", BigEvents(12, 6000, "b")).status, 200);
  const int64_t dropped = Stat("/store/events_dropped");
  const int64_t rows = Rows();
  EXPECT_GE(rows, 12) << "the newest batch is stored whole";
  EXPECT_EQ(rows + dropped, 24);
  EXPECT_EQ(Stat("/store/backlog"), rows);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // many failed cycles, no arrivals
  EXPECT_GT(Stat("/uploader/failures"), 20);
  EXPECT_EQ(Stat("/store/events_dropped"), dropped) << "evicted with nothing arriving";
  EXPECT_EQ(Rows(), rows);
  EXPECT_EQ(Stat("/store/backlog"), rows);
}

// The comparison modes take ids inside their transaction, so commits land in id order and the
// uploader never marks an id it has not shipped.
class LifecycleModesTest : public LifecycleTest,
                           public ::testing::WithParamInterface<const char*> {};

TEST_P(LifecycleModesTest, EveryAcknowledgedEventReachesTheSink) {
  HttpReceiver receiver;
  ASSERT_TRUE(receiver.Start().ok());
  Start({"--mode", GetParam(), "--sink", "webhook", "--webhook-url", receiver.Url("/in"),
         "--upload-interval", "5ms", "--upload-batch", "7", "--io-threads", "8"});
  std::mutex mu;
  std::set<int64_t> acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> producers;
  for (int p = 0; p < 12; ++p) {
    producers.emplace_back([&, p] {
      HttpClient c("127.0.0.1", server_->port());
      while (!stop) {
        auto r = c.Post("/events", R"([{"device_id":"p)" + std::to_string(p) +
                                       R"(","kind":"t"},{"device_id":"x","kind":"t"}])");
        if (r.status != 200) {
          ADD_FAILURE() << r.status << " " << r.body << r.error;
          return;
        }
        std::lock_guard lock(mu);
        for (int64_t id : ParseIds(r.body)) acked.insert(id);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));
  stop = true;
  for (auto& t : producers) t.join();
  ASSERT_GT(acked.size(), 200u);
  ASSERT_TRUE(Eventually([&] { return Stat("/store/backlog") == 0; }, std::chrono::seconds(60)));
  std::set<int64_t> shipped;
  simdjson::dom::parser parser;
  for (const auto& req : receiver.Requests()) {
    simdjson::padded_string body(req.body);
    simdjson::dom::array events;
    ASSERT_FALSE(parser.parse(body).get(events));
    for (auto e : events) shipped.insert(int64_t(e["id"]));
  }
  int64_t missing = 0;
  for (int64_t id : acked) missing += shipped.count(id) ? 0 : 1;
  EXPECT_EQ(missing, 0) << "acknowledged events marked uploaded without being shipped";
}

INSTANTIATE_TEST_SUITE_P(DirectModes, LifecycleModesTest,
                         ::testing::Values("serialized", "concurrent"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace cistern::testing
