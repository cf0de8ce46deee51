// --sink otlp end to end: Cistern A ships its buffer as OTLP/HTTP into Cistern B's OTLP ingest
// over loopback (docs/otlp.md, "Export"). Records must arrive faithfully, and an outage of B
// must be ridden out: the events wait in A, then arrive.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "otlp_requests.h"
#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

const std::map<std::string, std::string> kProto = {{"Content-Type", "application/x-protobuf"}};

class OtlpExportTest : public ServerTest {
 protected:
  std::string db_b() const { return dir_.File("b.db"); }

  void StartB(std::vector<std::string> extra = {}) {
    b_.reset();
    b_ = std::make_unique<CisternProcess>(dir_.path(), db_b(), [&] {
      std::vector<std::string> flags = {"--sink", "none"};
      flags.insert(flags.end(), extra.begin(), extra.end());
      return flags;
    }());
    ASSERT_TRUE(b_->started()) << b_->Log();
  }

  void StartA(uint16_t b_port, const std::string& encoding) {
    Start({"--sink", "otlp", "--otlp-url", "http://127.0.0.1:" + std::to_string(b_port) + "/",
           "--otlp-encoding", encoding, "--otlp-gzip", "--otlp-header", "X-Test: yes",
           "--upload-interval", "100ms", "--retry-max-backoff", "300ms"});
  }

  // Waits until B holds n events; true when it does.
  bool WaitForRows(int64_t n, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (QueryInt(db_b(), "SELECT count(*) FROM events") >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  void PostSamples() {
    auto r = client_->Post("/v1/logs", ToProtobuf(TwoLogs("dev-a")), kProto);
    ASSERT_EQ(r.status, 200) << r.body;
    r = client_->Post("/v1/metrics", ToProtobuf(ThreePoints("dev-m")), kProto);
    ASSERT_EQ(r.status, 200) << r.body;
    r = client_->Post("/events", R"({"device_id":"plain","kind":"door","payload":{"open":true}})");
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // B's events compared with A's: OTLP records keep their payload byte for byte (the
  // resource, scope, attributes, severity, ids and values); the plain event arrives as a log
  // record with its device_id, kind and payload as the body.
  void ExpectFaithful() {
    // Log records and data points travel in separate requests, so B's order may differ from
    // A's: compare the OTLP records as sets (sorted), the plain event on its own.
    const std::string q =
        "SELECT device_id, kind, ts, payload_json FROM events WHERE device_id != 'plain' "
        "ORDER BY payload_json";
    auto a = QueryRows(db(), q);
    auto b = QueryRows(db_b(), q);
    ASSERT_EQ(a.size(), 5u);
    EXPECT_EQ(b, a);
    EXPECT_EQ(QueryInt(db_b(), "SELECT count(*) FROM events"), 6);
    auto a_plain = QueryRows(db(), "SELECT ts FROM events WHERE device_id = 'plain'");
    auto b_plain = QueryRows(db_b(), "SELECT kind, ts FROM events WHERE device_id = 'plain'");
    ASSERT_EQ(a_plain.size(), 1u);
    ASSERT_EQ(b_plain.size(), 1u);
    EXPECT_EQ(b_plain[0], (std::vector<std::string>{"door", a_plain[0][0]}));
    auto plain = QueryRows(
        db_b(),
        "SELECT json_extract(payload_json, '$.record.body.kvlistValue.values[0].key'), "
        "json_extract(payload_json, '$.record.body.kvlistValue.values[0].value.boolValue'), "
        "(SELECT json_extract(a.value, '$.value.intValue') FROM "
        "json_each(json_extract(payload_json, '$.record.attributes')) a "
        "WHERE json_extract(a.value, '$.key') = 'cistern.event_id') "
        "FROM events WHERE device_id = 'plain'");
    ASSERT_EQ(plain.size(), 1u);
    EXPECT_EQ(plain[0][0], "open");
    EXPECT_EQ(plain[0][1], "1");
    EXPECT_EQ(plain[0][2], "6");
    // Spot checks of the values themselves (not only A == B).
    EXPECT_EQ(QueryInt(db_b(),
                       "SELECT count(*) FROM events WHERE json_extract(payload_json, "
                       "'$.record.traceId') = '5b8efff798038103d269b633813fc60c' AND "
                       "json_extract(payload_json, '$.record.severityNumber') = 9 AND "
                       "json_extract(payload_json, '$.record.attributes[0].value.stringValue') = "
                       "'alice' AND json_extract(payload_json, '$.record.attributes[1].value."
                       "intValue') = '7' AND json_extract(payload_json, '$.scope.name') = "
                       "'scope-a' AND device_id = 'dev-a' AND kind = 'login'"),
              1);
    EXPECT_EQ(QueryInt(db_b(),
                       "SELECT count(*) FROM events WHERE kind = 'cpu.temp' AND "
                       "json_extract(payload_json, "
                       "'$.metric.gauge.dataPoints[0].asDouble') = 42.5"),
              1);
  }

  void TearDown() override {
    ServerTest::TearDown();
    if (b_) EXPECT_EQ(b_->Stop(), 0) << b_->Log();
  }

  std::unique_ptr<CisternProcess> b_;
};

TEST_F(OtlpExportTest, ProtobufRoundTripIsFaithful) {
  StartB();
  StartA(b_->port(), "protobuf");
  PostSamples();
  ASSERT_TRUE(WaitForRows(6)) << server_->Log();
  ExpectFaithful();
}

TEST_F(OtlpExportTest, JsonRoundTripIsFaithful) {
  StartB();
  StartA(b_->port(), "json");
  PostSamples();
  ASSERT_TRUE(WaitForRows(6)) << server_->Log();
  ExpectFaithful();
}

TEST_F(OtlpExportTest, OutageOfTheReceiverIsRiddenOut) {
  StartB();
  const uint16_t port = b_->port();
  ASSERT_EQ(b_->Stop(), 0);
  b_.reset();
  StartA(port, "protobuf");
  PostSamples();
  // Nothing can be delivered: the events stay pending in A, the uploader reports failures.
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM pending_events"), 6);
  auto stats = client_->Get("/stats");
  EXPECT_GT(JsonInt(stats.body, "/uploader/failures"), 0) << stats.body;
  // B comes back on the same port: everything arrives.
  StartB({"--addr", "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(WaitForRows(6)) << server_->Log();
  ExpectFaithful();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (QueryInt(db(), "SELECT count(*) FROM pending_events") != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM pending_events"), 0);
}

}  // namespace
}  // namespace cistern::testing
