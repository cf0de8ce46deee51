// Months of running, compressed: 1 s retention, 10 ms upload cycles, a 2 MiB bound and steady
// ingest for ~30 s with a healthy sink, more than the bound holds in total. Throughout: the
// file's in-use bytes stay under the bound, upload_runs stays bounded, nothing is evicted
// (shipped events make the room), and at the end every acknowledged event was delivered.
#include <simdjson.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "support/http_receiver.h"
#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

class LongRunTest : public ServerTest {};

TEST_F(LongRunTest, ThirtySecondsOfMonthsStayBoundedAndDeliverEverything) {
  constexpr int64_t kBound = 2 << 20;
  HttpReceiverOptions ro;
  HttpReceiver receiver(ro);
  ASSERT_TRUE(receiver.Start().ok());
  Start({"--sink", "webhook", "--webhook-url", receiver.Url("/in"), "--upload-interval", "10ms",
         "--upload-batch", "200", "--retain-uploaded", "1s", "--max-db-bytes", "2MiB", "--on-full",
         "drop-oldest", "--max-backlog", "0"});
  std::mutex mu;
  std::set<int64_t> acked;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> refused{0};
  std::vector<std::thread> producers;
  const std::string payload(400, 'v');
  for (int p = 0; p < 2; ++p) {
    producers.emplace_back([&, p] {
      HttpClient c("127.0.0.1", server_->port());
      std::string body = "[";
      for (int i = 0; i < 10; ++i) {
        body += std::string(i ? "," : "") + R"({"device_id":"d)" + std::to_string(p * 10 + i) +
                R"(","kind":"t","payload":{"v":")" + payload + "\"}}";
      }
      body += "]";
      while (!stop) {
        auto r = c.Post("/events", body);
        if (r.status == 200) {
          std::lock_guard lock(mu);
          for (int64_t id : ParseIds(r.body)) acked.insert(id);
        } else {
          refused++;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
  }
  struct Joiner {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~Joiner() {
      stop = true;
      for (auto& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } joiner{stop, producers};

  int64_t max_used = 0, max_runs = 0;
  HttpClient probe("127.0.0.1", server_->port());
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int i = 0; std::chrono::steady_clock::now() < end; ++i) {
    auto stats = probe.Get("/stats");
    ASSERT_EQ(stats.status, 200);
    max_used = std::max(max_used, JsonInt(stats.body, "/store/used_bytes"));
    ASSERT_EQ(JsonInt(stats.body, "/store/events_dropped"), 0) << "evicted at " << i;
    if (i % 10 == 0)
      max_runs = std::max(max_runs, QueryInt(db(), "SELECT count(*) FROM upload_runs"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  stop = true;
  for (auto& t : producers) t.join();
  auto stats = probe.Get("/stats");
  const int64_t written = JsonInt(stats.body, "/store/events_written");
  std::printf(
      "long run: %zu events acknowledged (%lld written, %lld refused), max in-use %lld "
      "bytes of %lld, max upload_runs rows %lld, pruned %lld\n",
      acked.size(), static_cast<long long>(written), static_cast<long long>(refused.load()),
      static_cast<long long>(max_used), static_cast<long long>(kBound),
      static_cast<long long>(max_runs),
      static_cast<long long>(JsonInt(stats.body, "/store/events_pruned")));
  // More went through than the bound could ever hold: the lifecycle, not luck, kept it bounded.
  ASSERT_GT(static_cast<int64_t>(acked.size()) * 400, 2 * kBound);
  EXPECT_LE(max_used, kBound);
  EXPECT_LE(max_runs, 300) << "upload_runs grows with time";
  EXPECT_EQ(JsonInt(stats.body, "/store/events_dropped"), 0);
  EXPECT_GT(JsonInt(stats.body, "/store/events_pruned"), 0);

  bool drained = false;
  for (int i = 0; i < 400 && !drained; ++i) {
    drained = JsonInt(probe.Get("/stats").body, "/store/backlog") == 0;
    if (!drained) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_TRUE(drained);
  std::set<int64_t> delivered;
  simdjson::dom::parser parser;
  for (const auto& req : receiver.Requests()) {
    simdjson::padded_string body(req.body);
    simdjson::dom::array events;
    ASSERT_FALSE(parser.parse(body).get(events));
    for (auto e : events) delivered.insert(int64_t(e["id"]));
  }
  int64_t missing = 0;
  for (int64_t id : acked) missing += delivered.count(id) ? 0 : 1;
  EXPECT_EQ(missing, 0) << "acknowledged events never delivered";
}

}  // namespace
}  // namespace cistern::testing
