// The uploader end to end: the real collector, real producers over HTTP, a real local webhook
// receiver. Every acknowledged event must arrive upstream at least once, in id order,
// through failures and outages.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "support/http_receiver.h"
#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

class UploadWebhookTest : public ServerTest {
 protected:
  void SetUp() override { ASSERT_TRUE(receiver_.Start().ok()); }

  void StartCollector(std::vector<std::string> extra) {
    std::vector<std::string> flags = {"--sink",
                                      "webhook",
                                      "--webhook-url",
                                      receiver_.Url("/ingest"),
                                      "--upload-interval",
                                      "100ms",
                                      "--retry-max-backoff",
                                      "400ms"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    Start(flags);
  }

  // Runs `producers` clients posting small batches until `stop`; collects acknowledged ids.
  void Produce(int producers, std::atomic<bool>& stop, std::vector<int64_t>* acked,
               std::atomic<int64_t>* refused,
               std::chrono::milliseconds pace = std::chrono::milliseconds(0)) {
    std::mutex mu;
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        HttpClient c("127.0.0.1", server_->port());
        while (!stop) {
          auto r = c.Post("/events",
                          R"([{"device_id":"p)" + std::to_string(p) +
                              R"(","kind":"t","payload":{"x":1}},{"device_id":"q","kind":"t"}])");
          if (r.status == 200) {
            auto ids = ParseIds(r.body);
            {
              std::lock_guard lock(mu);
              acked->insert(acked->end(), ids.begin(), ids.end());
            }
            if (pace.count() > 0) std::this_thread::sleep_for(pace);
          } else if (r.status == 503) {
            (*refused)++;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          } else {
            ADD_FAILURE() << "unexpected " << r.status << " " << r.body << r.error;
            return;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
  }

  // Every id the receiver got, in arrival order (duplicates included).
  std::vector<int64_t> ReceivedIds() { return AcceptedEventIds(receiver_); }

  bool WaitForBacklog(int64_t n, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = client_->Get("/stats");
      if (s.status == 200 && JsonInt(s.body, "/store/backlog") == n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  void ExpectDeliveredInOrder(const std::vector<int64_t>& acked) {
    std::vector<int64_t> got = ReceivedIds();
    std::set<int64_t> unique(got.begin(), got.end());
    for (int64_t id : acked)
      ASSERT_TRUE(unique.count(id)) << "acknowledged id " << id << " never arrived";
    // In id order: the first time each id appears, it is larger than every id before it.
    int64_t high = 0;
    std::set<int64_t> seen;
    for (int64_t id : got) {
      if (!seen.insert(id).second) continue;  // a re-ship (allowed: at-least-once)
      EXPECT_GT(id, high) << "id " << id << " arrived after " << high;
      high = std::max(high, id);
    }
  }

  HttpReceiver receiver_;
};

TEST_F(UploadWebhookTest, EveryEventArrivesInIdOrderWithConcurrentProducers) {
  StartCollector({});
  std::atomic<bool> stop{false};
  std::vector<int64_t> acked;
  std::atomic<int64_t> refused{0};
  std::thread producer([&] { Produce(8, stop, &acked, &refused); });
  std::this_thread::sleep_for(std::chrono::seconds(2));
  stop = true;
  producer.join();
  ASSERT_GT(acked.size(), 100u);
  ASSERT_TRUE(WaitForBacklog(0));
  ExpectDeliveredInOrder(acked);
  auto req = receiver_.Requests().front();
  EXPECT_EQ(req.target, "/ingest");
  EXPECT_FALSE(req.Header("idempotency-key").empty());
  auto stats = client_->Get("/stats");
  EXPECT_EQ(JsonString(stats.body, "/uploader/sink"), "webhook");
  EXPECT_EQ(JsonInt(stats.body, "/store/events_uploaded"), static_cast<int64_t>(acked.size()));
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM pending_events"), 0);
}

TEST_F(UploadWebhookTest, FlakySinkIsReportedButHealthStaysReadyThenEverythingDrains) {
  // Every other cycle fails, and each failure waits a backoff: producers are paced so the
  // backlog stays within what the half-speed uploader can drain in seconds.
  StartCollector({"--flaky-every", "2", "--upload-batch", "100"});
  std::atomic<bool> stop{false};
  std::vector<int64_t> acked;
  std::atomic<int64_t> refused{0};
  std::thread producer([&] { Produce(2, stop, &acked, &refused, std::chrono::milliseconds(10)); });
  // Issue 16.1: /healthz answered 503 while the sink failed, so a load balancer took the
  // collector out of rotation exactly when its buffer was needed. Readiness now means "would
  // store an event"; the sink's state is in the body.
  bool saw_upstream_down = false;
  int not_ready = 0;
  int64_t peak_backlog = 0;
  HttpClient probe("127.0.0.1", server_->port());
  for (int i = 0; i < 150; ++i) {
    auto h = probe.Get("/healthz");
    if (h.status != 0 && h.status != 200) ++not_ready;
    if (h.status == 200 && h.body.find("\"upstream_ok\":false") != std::string::npos) {
      saw_upstream_down = true;
    }
    if (h.status != 0) peak_backlog = std::max(peak_backlog, JsonInt(h.body, "/backlog"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  producer.join();
  EXPECT_TRUE(saw_upstream_down) << "/healthz never reported the failing sink";
  EXPECT_EQ(not_ready, 0) << "a failing sink made the collector unready";
  EXPECT_GT(peak_backlog, 0);
  ASSERT_TRUE(WaitForBacklog(0));
  EXPECT_EQ(probe.Get("/healthz").status, 200);
  ExpectDeliveredInOrder(acked);
  auto stats = client_->Get("/stats");
  EXPECT_GT(JsonInt(stats.body, "/uploader/failures"), 0);
  EXPECT_GT(QueryInt(db(), "SELECT count(*) FROM upload_runs WHERE status = 'error'"), 0);
}

TEST_F(UploadWebhookTest, OutageFillsTheBufferThenEverythingAcknowledgedArrives) {
  StartCollector({"--max-backlog", "300"});
  receiver_.GoDown();  // upstream down: connection refused, port kept
  std::atomic<bool> stop{false};
  std::vector<int64_t> acked;
  std::atomic<int64_t> refused{0};
  std::thread producer([&] { Produce(4, stop, &acked, &refused); });
  struct Joiner {  // an ASSERT below must not leave the producer thread running
    std::atomic<bool>& stop;
    std::thread& t;
    ~Joiner() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } joiner{stop, producer};
  // The backlog climbs to the limit; then producers get 503s.
  bool full = false;
  for (int i = 0; i < 300 && !full; ++i) {
    full = refused.load() > 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(full) << "producers never saw 503";
  auto h = client_->Get("/healthz");
  EXPECT_EQ(h.status, 503);
  EXPECT_EQ(JsonInt(h.body, "/backlog"), 300);
  Status restarted = receiver_.Start(receiver_.port());  // upstream back
  ASSERT_TRUE(restarted.ok()) << restarted.message();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  producer.join();
  ASSERT_TRUE(WaitForBacklog(0, std::chrono::seconds(30)));
  ExpectDeliveredInOrder(acked);
  EXPECT_EQ(JsonInt(client_->Get("/stats").body, "/store/events_uploaded"),
            static_cast<int64_t>(acked.size()));
}

TEST_F(UploadWebhookTest, UpstreamRejectionKeepsEventsAndRetries) {
  receiver_.SetStatus(500);
  StartCollector({});
  ASSERT_EQ(client_->Post("/events", R"({"device_id":"a","kind":"t"})").status, 200);
  ASSERT_TRUE(receiver_.WaitForCount(2, std::chrono::seconds(10)));
  EXPECT_EQ(JsonInt(client_->Get("/stats").body, "/store/backlog"), 1);
  receiver_.SetStatus(200);
  ASSERT_TRUE(WaitForBacklog(0));
  // The identical failures folded into one row with their count, then the success.
  auto runs = QueryRows(db(), "SELECT status, error, attempts FROM upload_runs ORDER BY id");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs.front()[0], "error");
  EXPECT_NE(runs.front()[1].find("500"), std::string::npos) << runs.front()[1];
  EXPECT_GE(std::stoll(runs.front()[2]), 2);
  EXPECT_EQ(runs.back()[0], "ok");
}

TEST_F(UploadWebhookTest, SigtermDrainsTheBacklogBeforeExiting) {
  Start({"--sink", "webhook", "--webhook-url", receiver_.Url("/ingest"), "--upload-interval", "1h",
         "--drain-timeout", "10s"});
  std::vector<int64_t> acked;
  for (int i = 0; i < 20; ++i) {
    auto r = client_->Post("/events", R"({"device_id":"a","kind":"t"})");
    ASSERT_EQ(r.status, 200);
    acked.push_back(ParseIds(r.body)[0]);
  }
  client_.reset();
  EXPECT_EQ(server_->Stop(), 0);
  server_.reset();
  ExpectDeliveredInOrder(acked);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM pending_events"), 0);
}

}  // namespace
}  // namespace cistern::testing
