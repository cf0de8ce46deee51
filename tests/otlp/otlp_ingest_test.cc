// OTLP/HTTP ingest end to end: the real collector on a loopback port, a real HTTP client, the
// rows checked in the SQLite file (docs/otlp.md, "Ingest").
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "cistern/otlp/logs_service.pb.h"
#include "cistern/otlp/metrics_service.pb.h"
#include "event/otlp/otlp_types.h"
#include "otlp_requests.h"
#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

using opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse;
using opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceResponse;

const std::map<std::string, std::string> kProto = {{"Content-Type", "application/x-protobuf"}};
const std::map<std::string, std::string> kJson = {
    {"Content-Type", "application/json; charset=utf-8"}};

class OtlpIngestTest : public ServerTest {};

TEST_F(OtlpIngestTest, ProtobufLogsAreStoredOnePerRecordAndAnsweredInProtobuf) {
  Start();
  auto r = client_->Post("/v1/logs", ToProtobuf(TwoLogs("dev-1")), kProto);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/x-protobuf");
  ExportLogsServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(r.body));
  EXPECT_FALSE(resp.has_partial_success());
  auto rows = QueryRows(db(),
                        "SELECT device_id, kind, ts, "
                        "json_extract(payload_json, '$.record.body.stringValue'), "
                        "json_extract(payload_json, '$.record.traceId'), "
                        "json_extract(payload_json, '$.record.severityNumber') "
                        "FROM events ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"dev-1", "login", "1700000000123", "hello",
                                               "5b8efff798038103d269b633813fc60c", "9"}));
  EXPECT_EQ(rows[1][0], "dev-1");
  EXPECT_EQ(rows[1][1], "WARN");  // no event name: the severity text
  EXPECT_EQ(rows[1][3], "second");
}

TEST_F(OtlpIngestTest, JsonWithCharsetIsAnsweredInJson) {
  Start();
  auto r = client_->Post("/v1/logs", ToJson(TwoLogs("dev-j")), kJson);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM events WHERE device_id = 'dev-j'"), 2);
}

TEST_F(OtlpIngestTest, GzipProtobufAndJsonMetricsOneEventPerDataPoint) {
  Start();
  auto gz = kProto;
  gz["Content-Encoding"] = "gzip";
  auto r = client_->Post("/v1/metrics", Gzip(ToProtobuf(ThreePoints("m-1"))), gz);
  ASSERT_EQ(r.status, 200) << r.body;
  ExportMetricsServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(r.body));
  EXPECT_FALSE(resp.has_partial_success());
  auto json_gz = kJson;
  json_gz["Content-Encoding"] = "gzip";
  r = client_->Post("/v1/metrics", Gzip(ToJson(ThreePoints("m-2"))), json_gz);
  ASSERT_EQ(r.status, 200) << r.body;
  auto rows = QueryRows(db(),
                        "SELECT device_id, kind, ts, "
                        "json_extract(payload_json, '$.metric.gauge.dataPoints[0].asDouble'), "
                        "json_extract(payload_json, '$.metric.unit') FROM events ORDER BY id");
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"m-1", "cpu.temp", "1700000000123", "41.5", "Cel"}));
  EXPECT_EQ(rows[2][2], "1700000002123");
  EXPECT_EQ(rows[3][0], "m-2");
  EXPECT_EQ(rows[5][3], "43.5");
}

TEST_F(OtlpIngestTest, OversizeRecordIsPartialSuccessAndDeadLettered) {
  Start({"--max-payload-bytes", "2KiB"});
  auto request = TwoLogs("dev-big");
  request.mutable_resource_logs(0)
      ->mutable_scope_logs(0)
      ->mutable_log_records(1)
      ->mutable_body()
      ->set_string_value(std::string(4000, 'x'));
  for (auto [encoding, headers] :
       {std::pair{OtlpEncoding::kProtobuf, kProto}, std::pair{OtlpEncoding::kJson, kJson}}) {
    auto r = client_->Post(
        "/v1/logs", encoding == OtlpEncoding::kProtobuf ? ToProtobuf(request) : ToJson(request),
        headers);
    ASSERT_EQ(r.status, 200) << r.body;
    ExportLogsServiceResponse resp;
    if (encoding == OtlpEncoding::kProtobuf) {
      ASSERT_TRUE(resp.ParseFromString(r.body));
    } else {
      ASSERT_TRUE(FromJson(r.body, &resp)) << r.body;
    }
    ASSERT_TRUE(resp.has_partial_success()) << r.body;
    EXPECT_EQ(resp.partial_success().rejected_log_records(), 1);
    EXPECT_NE(resp.partial_success().error_message().find("record 1"), std::string::npos)
        << resp.partial_success().error_message();
  }
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM events WHERE device_id = 'dev-big'"), 2);
  auto dead = QueryRows(db(),
                        "SELECT source, length(body) > 4000, instr(origin, 'dev-big') > 0 "
                        "FROM dead_letters ORDER BY id");
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(dead[0], (std::vector<std::string>{"otlp-logs", "1", "1"}));
}

TEST_F(OtlpIngestTest, FullStoreAnswers503WithShortRetryAfter) {
  // A small byte bound, rejecting when full: requests of two ~4 KB records fill it soon.
  Start({"--max-db-bytes", "160KiB", "--on-full", "reject"});
  auto request = TwoLogs("dev-full");
  for (int i = 0; i < 2; ++i) {
    request.mutable_resource_logs(0)
        ->mutable_scope_logs(0)
        ->mutable_log_records(i)
        ->mutable_body()
        ->set_string_value(std::string(4000, 'a' + i));
  }
  HttpResult r;
  int stored = 0;
  for (int i = 0; i < 100; ++i) {
    r = client_->Post("/v1/logs", ToProtobuf(request), kProto);
    if (r.status != 200) break;
    ++stored;
  }
  ASSERT_EQ(r.status, 503) << r.body;
  EXPECT_GT(stored, 0);
  EXPECT_EQ(r.Header("retry-after"), "1");
  EXPECT_EQ(r.Header("content-type"), "application/x-protobuf");
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM events"), 2 * stored);
}

TEST_F(OtlpIngestTest, ClientErrors) {
  Start();
  auto r = client_->Post("/v1/logs", "\x0a\x05\x0a", kProto);  // truncated
  EXPECT_EQ(r.status, 400) << r.body;
  r = client_->Post("/v1/logs", "{\"resourceLogs\":", kJson);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("invalid JSON"), std::string::npos) << r.body;
  std::string deep = R"({"stringValue":"x"})";
  for (int i = 0; i < 40; ++i)
    deep = R"({"kvlistValue":{"values":[{"key":"k","value":)" + deep + "}]}}";
  r = client_->Post("/v1/logs",
                    R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":)" + deep + "}]}]}]}",
                    kJson);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("nested deeper"), std::string::npos) << r.body;
  r = client_->Post("/v1/logs", ToJson(TwoLogs("d")), {{"Content-Type", "text/plain"}});
  EXPECT_EQ(r.status, 415) << r.body;
  r = client_->Post("/v1/traces", "{}", kJson);
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(r.body.find("traces"), std::string::npos) << r.body;
  r = client_->Get("/v1/logs");
  EXPECT_EQ(r.status, 405);
  auto gz = kProto;
  gz["Content-Encoding"] = "gzip";
  r = client_->Post("/v1/logs", Gzip(std::string(8 << 20, '\0')), gz);  // a gzip bomb
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(Rows(), 0);
}

TEST_F(OtlpIngestTest, BearerTokenRequired) {
  std::string tokens = dir_.File("tokens");
  std::ofstream(tokens) << "s3cret\n";
  Start({"--auth-token-file", tokens});
  auto r = client_->Post("/v1/logs", ToProtobuf(TwoLogs("a")), kProto);
  EXPECT_EQ(r.status, 401);
  auto with = kProto;
  with["Authorization"] = "Bearer s3cret";
  r = client_->Post("/v1/metrics", ToProtobuf(ThreePoints("a")), with);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Rows(), 3);
}

}  // namespace
}  // namespace cistern::testing
