// The collector with --sink nats against a real nats-server with JetStream. At-least-once
// from the collector plus Nats-Msg-Id de-duplication in JetStream: every acknowledged event
// is in the stream exactly once, even when batches are shipped again after a crash.
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "support/nats_server.h"
#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

class UploadNatsTest : public ServerTest {
 protected:
  void StartCollector() {
    Start({"--sink", "nats", "--nats-url", nats_.Url(), "--upload-interval", "100ms",
           "--retry-max-backoff", "500ms"});
  }
  std::vector<int64_t> PostEvents(int requests) {
    std::vector<int64_t> acked;
    for (int i = 0; i < requests; ++i) {
      auto r = client_->Post("/events", R"([{"device_id":"dev-)" + std::to_string(i % 7) +
                                            R"(","kind":"t"},{"device_id":"x","kind":"t"}])");
      EXPECT_EQ(r.status, 200) << r.body;
      for (int64_t id : ParseIds(r.body)) acked.push_back(id);
    }
    return acked;
  }
  bool WaitForBacklog(int64_t n) {
    for (int i = 0; i < 400; ++i) {
      auto s = client_->Get("/stats");
      if (s.status == 200 && JsonInt(s.body, "/store/backlog") == n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  // msg id -> how many times the stream holds it.
  std::map<std::string, int> StreamIds() {
    JsReader reader(nats_.Url());
    EXPECT_TRUE(reader.ok()) << reader.error();
    std::map<std::string, int> ids;
    for (const auto& m : reader.Messages("CISTERN")) ids[m.msg_id]++;
    return ids;
  }
  void ExpectExactlyOnce(const std::vector<int64_t>& acked, const std::string& node) {
    auto ids = StreamIds();
    for (int64_t id : acked) {
      auto it = ids.find(node + "-" + std::to_string(id));
      ASSERT_NE(it, ids.end()) << "acknowledged id " << id << " not in the stream";
      EXPECT_EQ(it->second, 1) << "id " << id << " stored " << it->second << " times";
    }
    EXPECT_EQ(ids.size(), acked.size());
  }
  NatsServer nats_;
};

TEST_F(UploadNatsTest, EveryEventLandsInTheStreamOnce) {
  ASSERT_TRUE(nats_.started()) << nats_.Log();
  StartCollector();
  auto acked = PostEvents(150);
  ASSERT_TRUE(WaitForBacklog(0));
  std::string node = JsonString(client_->Get("/stats").body, "/store/node_id");
  ExpectExactlyOnce(acked, node);
}

TEST_F(UploadNatsTest, ABatchShippedAgainAfterACrashIsDeduplicatedByJetStream) {
  ASSERT_TRUE(nats_.started()) << nats_.Log();
  StartCollector();
  auto acked = PostEvents(100);
  ASSERT_TRUE(WaitForBacklog(0));
  std::string node = JsonString(client_->Get("/stats").body, "/store/node_id");
  client_.reset();
  ASSERT_EQ(server_->Stop(), 0);
  server_.reset();
  // The state a crash between ship and checkpoint leaves: shipped, but not marked uploaded.
  ASSERT_TRUE(ExecSql(db(),
                      "BEGIN; UPDATE meta SET value = '120' WHERE key = 'upload_cursor';"
                      "UPDATE devices SET pending = (SELECT count(*) FROM event_log WHERE "
                      "device_id = device_key AND id > 120); COMMIT;"));
  StartCollector();
  ASSERT_TRUE(WaitForBacklog(0));
  auto stats = client_->Get("/stats");
  EXPECT_EQ(JsonInt(stats.body, "/uploader/duplicates_reported"), 80)
      << "JetStream should report every re-shipped event as a duplicate";
  ExpectExactlyOnce(acked, node);
}

TEST_F(UploadNatsTest, KillNineWhileShippingLosesNothingAndDuplicatesNothing) {
  ASSERT_TRUE(nats_.started()) << nats_.Log();
  std::vector<int64_t> acked;
  std::string node;
  JsReader stream(nats_.Url());
  ASSERT_TRUE(stream.ok()) << stream.error();
  for (int round = 0; round < 3; ++round) {
    // Small batches in quick cycles: shipping a round's events takes many cycles, and the
    // kill lands between them, inside one, or between a ship and its bookkeeping.
    Start({"--sink", "nats", "--nats-url", nats_.Url(), "--upload-interval", "20ms",
           "--upload-batch", "7", "--retry-max-backoff", "500ms"});
    if (node.empty()) node = JsonString(client_->Get("/stats").body, "/store/node_id");
    const int64_t in_stream = std::max<int64_t>(0, stream.MessageCount("CISTERN"));
    auto more = PostEvents(60 + 20 * round);
    acked.insert(acked.end(), more.begin(), more.end());
    bool shipping = false;
    for (int i = 0; i < 500 && !shipping; ++i) {
      shipping = stream.MessageCount("CISTERN") > in_stream;
      if (!shipping) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_TRUE(shipping) << "round " << round << ": the uploader never started shipping";
    ASSERT_GT(JsonInt(client_->Get("/stats").body, "/store/backlog"), 0)
        << "round " << round << ": everything was shipped before the kill";
    client_.reset();
    server_->Kill9();
    server_.reset();
  }
  StartCollector();
  ASSERT_TRUE(WaitForBacklog(0));
  ExpectExactlyOnce(acked, node);
}

}  // namespace
}  // namespace cistern::testing
