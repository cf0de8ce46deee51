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

// The comparison modes keep the same promises over HTTP (shorter run: they are slow by design).
class ModeConcurrencyTest : public ServerTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(ModeConcurrencyTest, SixteenClientsLoseNothing) {
  Start({"--mode", GetParam(), "--max-backlog", "0", "--io-threads", "4"});
  std::mutex mu;
  std::vector<int64_t> acked;
  std::atomic<int64_t> failures{0};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      HttpClient c("127.0.0.1", server_->port());
      while (std::chrono::steady_clock::now() < deadline) {
        auto r = c.Post("/events", R"([{"device_id":"d)" + std::to_string(t) +
                                       R"(","kind":"t"},{"device_id":"x","kind":"t"}])");
        if (r.status != 200) {
          failures++;
          continue;
        }
        auto ids = ParseIds(r.body);
        std::lock_guard lock(mu);
        acked.insert(acked.end(), ids.begin(), ids.end());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_GT(acked.size(), 0u);
  std::set<int64_t> unique(acked.begin(), acked.end());
  EXPECT_EQ(unique.size(), acked.size());
  std::set<int64_t> on_disk;
  for (const auto& row : QueryRows(db(), "SELECT id FROM events"))
    on_disk.insert(std::stoll(row[0]));
  EXPECT_EQ(on_disk, unique);
  auto stats = client_->Get("/stats");
  EXPECT_EQ(JsonString(stats.body, "/store/mode"), GetParam());
  EXPECT_EQ(JsonInt(stats.body, "/store/backlog"), static_cast<int64_t>(acked.size()));
}

INSTANTIATE_TEST_SUITE_P(Modes, ModeConcurrencyTest, ::testing::Values("serialized", "concurrent"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace cistern::testing
