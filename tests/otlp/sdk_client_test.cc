// The official OpenTelemetry JS SDK (npm, pinned in client/package-lock.json) exports logs and
// metrics into a live collector with its OTLP/HTTP exporters, JSON and protobuf; the rows are
// checked with SQLite. Its retry on 503 + Retry-After is checked end to end.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/server_fixture.h"
#include "support/spawn.h"

namespace cistern::testing {
namespace {

class OtlpSdkTest : public ServerTest {
 protected:
  void SetUp() override {
    struct stat st;
    ASSERT_EQ(
        stat((std::string(kClientDir) + "/node_modules/@opentelemetry/sdk-logs").c_str(), &st), 0)
        << "the OpenTelemetry JS SDK is not installed: run scripts/install-deps (npm ci in "
        << kClientDir << ")";
  }

  RunResult Export(const std::string& encoding, int records, const std::string& device) {
    return RunProgram({NODE_EXECUTABLE, std::string(kClientDir) + "/otlp_sdk_export.mjs",
                       "http://127.0.0.1:" + std::to_string(server_->port()), encoding,
                       std::to_string(records), device},
                      std::chrono::seconds(60));
  }

  void ExpectRows(const std::string& device, int records) {
    const std::string where = " FROM events WHERE device_id = '" + device + "'";
    EXPECT_EQ(QueryInt(db(), "SELECT count(*)" + where + " AND kind = 'js.event'"),
              (records + 1) / 2);
    EXPECT_EQ(QueryInt(db(), "SELECT count(*)" + where + " AND kind = 'WARN'"), records / 2);
    // Every record with its body, severity, attribute and scope.
    EXPECT_EQ(QueryInt(db(),
                       "SELECT count(DISTINCT json_extract(payload_json, "
                       "'$.record.body.stringValue'))" +
                           where +
                           " AND json_extract(payload_json, '$.record.severityNumber') = 13"
                           " AND json_extract(payload_json, '$.scope.name') = "
                           "'cistern-sdk-test' AND json_extract(payload_json, "
                           "'$.resource.attributes[0].key') IS NOT NULL"),
              records);
    EXPECT_EQ(QueryInt(db(),
                       "SELECT sum(json_extract(payload_json, "
                       "'$.metric.sum.dataPoints[0].asDouble'))" +
                           where + " AND kind = 'js.requests'"),
              8);
    EXPECT_EQ(QueryInt(db(), "SELECT count(*)" + where +
                                 " AND kind = 'js.latency' AND json_extract(payload_json, "
                                 "'$.metric.histogram.dataPoints[0].sum') = 12.5"),
              1);
  }

  static constexpr const char* kClientDir = CISTERN_OTLP_CLIENT_DIR;
};

TEST_F(OtlpSdkTest, JsonExportersFromTheOfficialSdk) {
  Start();
  RunResult run = Export("json", 20, "js-json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ExpectRows("js-json", 20);
}

TEST_F(OtlpSdkTest, ProtobufExportersFromTheOfficialSdk) {
  Start();
  RunResult run = Export("protobuf", 600, "js-proto");  // over one 512-record batch
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ExpectRows("js-proto", 600);
}

TEST_F(OtlpSdkTest, SdkRetriesA503WithRetryAfterUntilStored) {
  // A full buffer (8 waiting, --max-backlog 8) that the uploader drains only after 5 s: the
  // SDK's first export gets 503 + Retry-After: 1 and must retry until it is stored.
  Start({"--max-backlog", "8", "--sink", "log", "--upload-interval", "5s"});
  std::string events = "[";
  for (int i = 0; i < 8; ++i)
    events += std::string(i ? "," : "") + R"({"device_id":"f","kind":"t"})";
  ASSERT_EQ(client_->Post("/events", events + "]").status, 200);
  RunResult run = Export("protobuf", 5, "js-retry");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ExpectRows("js-retry", 5);
  auto stats = client_->Get("/stats");
  EXPECT_GE(JsonInt(stats.body, "/http/responses/503"), 1) << stats.body;
}

}  // namespace
}  // namespace cistern::testing
