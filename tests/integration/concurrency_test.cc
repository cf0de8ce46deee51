// 64 concurrent keep-alive clients posting for a few seconds: every 200 is in the database
// and no request fails. Asserts counts, never speed.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

class ConcurrencyTest : public ServerTest {};

TEST_F(ConcurrencyTest, SixtyFourKeepAliveClientsLoseNothing) {
  Start({"--max-backlog", "0"});
  constexpr int kClients = 64;
  const auto duration = std::chrono::seconds(3);
  std::atomic<int64_t> failures{0};
  std::mutex mu;
  std::vector<int64_t> acked;
  std::string first_failure;
  std::vector<std::thread> threads;
  auto deadline = std::chrono::steady_clock::now() + duration;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      HttpClient c("127.0.0.1", server_->port());
      std::vector<int64_t> mine;
      for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
        // Mostly single events, every 5th request a batch of 7, every 11th NDJSON.
        std::string dev = "sensor-" + std::to_string(t);
        std::string one = R"({"device_id":")" + dev + R"(","kind":"t","payload":{"i":)" +
                          std::to_string(i) + R"(,"note":"a \"quoted\" note"}})";
        HttpResult r;
        if (i % 11 == 0) {
          r = c.Post("/events", one + "\n" + one + "\n",
                     {{"Content-Type", "application/x-ndjson"}});
        } else if (i % 5 == 0) {
          std::string batch = "[";
          for (int k = 0; k < 7; ++k) batch += (k ? "," : "") + one;
          r = c.Post("/events", batch + "]");
        } else {
          r = c.Post("/events", one);
        }
        if (r.status != 200) {
          failures++;
          std::lock_guard lock(mu);
          if (first_failure.empty())
            first_failure = std::to_string(r.status) + " " + r.body + r.error;
          continue;
        }
        auto ids = ParseIds(r.body);
        mine.insert(mine.end(), ids.begin(), ids.end());
      }
      std::lock_guard lock(mu);
      acked.insert(acked.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0) << first_failure;
  ASSERT_GT(acked.size(), 1000u) << "too little traffic to mean anything";

  std::set<int64_t> unique(acked.begin(), acked.end());
  EXPECT_EQ(unique.size(), acked.size()) << "an id was handed out twice";
  std::set<int64_t> on_disk;
  for (const auto& row : QueryRows(db(), "SELECT id FROM events"))
    on_disk.insert(std::stoll(row[0]));
  EXPECT_EQ(on_disk, unique);
  auto stats = client_->Get("/stats");
  EXPECT_EQ(JsonInt(stats.body, "/store/events_written"), static_cast<int64_t>(acked.size()));
  EXPECT_EQ(JsonInt(stats.body, "/store/backlog"), static_cast<int64_t>(acked.size()));
  EXPECT_EQ(JsonInt(stats.body, "/store/devices_seen"), kClients);
}

}  // namespace
}  // namespace cistern::testing
