// Crash safety under load: kill -9 the collector at random moments, several rounds, with
// producers posting and the uploader shipping to a webhook receiver. After every restart:
// each 200-acknowledged event is stored exactly once, ids keep increasing, the backlog gauge
// matches the file, and PRAGMA integrity_check is ok. At the end nothing acknowledged is
// missing upstream (duplicates are allowed, and counted).
#include <simdjson.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "support/http_receiver.h"
#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

class CrashTest : public ServerTest {
 protected:
  void StartCollector() {
    Start({"--sink", "webhook", "--webhook-url", receiver_.Url("/in"), "--upload-interval", "50ms",
           "--retry-max-backoff", "200ms"});
  }
  // Points the producers at the running collector and lets them post again.
  void ReleaseProducers() {
    port_ = server_->port();
    paused_ = false;
  }
  HttpReceiver receiver_;
  std::atomic<uint16_t> port_{0};
  // Set across a crash and the checks after the restart (the new collector may even get the
  // old port back, so the port alone cannot keep producers away).
  std::atomic<bool> paused_{true};
};

TEST_F(CrashTest, KillNineAtRandomMomentsLosesNothingAcknowledged) {
  ASSERT_TRUE(receiver_.Start().ok());
  std::mt19937 rng(std::random_device{}());
  std::mutex mu;
  std::set<int64_t> acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> producers;
  StartCollector();
  ReleaseProducers();
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&, p] {
      uint16_t port = 0;
      std::unique_ptr<HttpClient> c;
      while (!stop) {
        if (paused_) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          continue;
        }
        if (port != port_.load() || !c) {
          port = port_.load();
          c = std::make_unique<HttpClient>("127.0.0.1", port, std::chrono::seconds(2));
        }
        auto r = c->Post("/events", R"([{"device_id":"p)" + std::to_string(p) +
                                        R"(","kind":"t"},{"device_id":"q","kind":"t"}])");
        if (r.status == 200) {
          auto ids = ParseIds(r.body);
          std::lock_guard lock(mu);
          acked.insert(ids.begin(), ids.end());
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));  // down: not acknowledged
        }
      }
    });
  }
  struct Joiner {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~Joiner() {
      stop = true;
      for (auto& t : threads) t.join();
    }
  } joiner{stop, producers};

  size_t acked_before_round = 0;
  for (int round = 0; round < 4; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 350));
    // The kill must land while events are being acknowledged, or the round checks nothing.
    for (int i = 0; i < 200; ++i) {
      {
        std::lock_guard lock(mu);
        if (acked.size() > acked_before_round + 10) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    client_.reset();
    paused_ = true;  // requests already in flight may still be answered or cut
    server_->Kill9();
    server_.reset();
    std::set<int64_t> before;
    {
      std::lock_guard lock(mu);
      before = acked;
    }
    ASSERT_GT(before.size(), acked_before_round + 10)
        << "round " << round << ": nothing acknowledged before the kill";
    acked_before_round = before.size();
    // Every acknowledged event is in the file exactly once (ids are the primary key, so
    // "once" means: present, and no more rows than ids handed out).
    std::set<int64_t> on_disk;
    for (const auto& row : QueryRows(db(), "SELECT id FROM events"))
      on_disk.insert(std::stoll(row[0]));
    for (int64_t id : before)
      ASSERT_TRUE(on_disk.count(id)) << "round " << round << ": lost " << id;
    ASSERT_EQ(QueryRows(db(), "PRAGMA integrity_check")[0][0], "ok") << "round " << round;
    int64_t max_before = on_disk.empty() ? 0 : *on_disk.rbegin();

    StartCollector();
    // The gauge restored from the file: producers are paused, and the uploader can only
    // shrink the backlog meanwhile, so gauge-before >= file >= gauge-after.
    int64_t g1 = JsonInt(client_->Get("/stats").body, "/store/backlog");
    int64_t file = QueryInt(db(), "SELECT count(*) FROM pending_events");
    int64_t g2 = JsonInt(client_->Get("/stats").body, "/store/backlog");
    EXPECT_GE(g1, file) << "round " << round;
    EXPECT_GE(file, g2) << "round " << round;
    ReleaseProducers();
    auto r = client_->Post("/events", R"({"device_id":"probe","kind":"t"})");
    ASSERT_EQ(r.status, 200);
    EXPECT_GT(ParseIds(r.body)[0], max_before) << "ids must keep increasing across crashes";
    {
      std::lock_guard lock(mu);
      acked.insert(ParseIds(r.body)[0]);
    }
  }
  stop = true;
  for (auto& t : producers) t.join();
  producers.clear();

  // Drain, then everything acknowledged must have arrived upstream at least once.
  bool drained = false;
  for (int i = 0; i < 400 && !drained; ++i) {
    drained = JsonInt(client_->Get("/stats").body, "/store/backlog") == 0;
    if (!drained) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(drained) << "the backlog never drained";
  std::map<int64_t, int> upstream;
  simdjson::dom::parser parser;
  for (const auto& req : receiver_.Requests()) {
    simdjson::padded_string body(req.body);
    simdjson::dom::array events;
    ASSERT_FALSE(parser.parse(body).get(events));
    for (auto e : events) upstream[int64_t(e["id"])]++;
  }
  int64_t duplicates = 0;
  for (const auto& [id, n] : upstream) duplicates += n - 1;
  for (int64_t id : acked)
    ASSERT_TRUE(upstream.count(id)) << "acknowledged id " << id << " never shipped";
  RecordProperty("acknowledged", static_cast<int>(acked.size()));
  RecordProperty("duplicates_upstream", static_cast<int>(duplicates));
  std::printf("crash test: %zu acknowledged, %lld re-shipped duplicates upstream\n", acked.size(),
              static_cast<long long>(duplicates));
}

}  // namespace
}  // namespace cistern::testing
