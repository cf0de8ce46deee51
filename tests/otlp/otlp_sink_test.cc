// OtlpSink against a real HttpReceiver over loopback: the requests it sends (paths, headers,
// bodies decoded with the project's .proto) and how it classifies the answers.
#include "sinks/otlp/otlp_sink.h"

#include <gtest/gtest.h>

#include "cistern/otlp/logs_service.pb.h"
#include "event/otlp/message_io.h"
#include "support/http_receiver.h"
#include "support/upload_batches.h"

namespace cistern {
namespace {

using opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using testing::HttpReceiver;
using Outcome = SendResult::Outcome;

std::unique_ptr<Sink> MakeSink(const std::string& url, OtlpEncoding encoding, bool gzip) {
  OtlpSinkOptions o;
  o.url = url;
  o.encoding = encoding;
  o.gzip = gzip;
  o.headers = {"X-Tenant: edge-7"};
  o.timeout = std::chrono::seconds(5);
  auto sink = MakeOtlpSink(o);
  EXPECT_TRUE(sink.ok()) << sink.status().message();
  return sink.ok() ? std::move(*sink) : nullptr;
}

class OtlpSinkTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(receiver_.Start().ok()); }
  HttpReceiver receiver_;
};

TEST_F(OtlpSinkTest, PostsLogRecordsWithHeadersInBothEncodings) {
  for (auto encoding : {OtlpEncoding::kProtobuf, OtlpEncoding::kJson}) {
    receiver_.Clear();
    auto sink = MakeSink(receiver_.Url("/"), encoding, true);
    ASSERT_TRUE(sink);
    SendResult r = sink->Send(testing::MakeUploadBatch(10, 4));
    ASSERT_TRUE(r.ok()) << r.error;
    auto reqs = receiver_.Requests();
    ASSERT_EQ(reqs.size(), 1u);  // native events only: one logs request
    EXPECT_EQ(reqs[0].target, "/v1/logs");
    EXPECT_EQ(reqs[0].Header("content-type"),
              encoding == OtlpEncoding::kProtobuf ? "application/x-protobuf" : "application/json");
    EXPECT_EQ(reqs[0].Header("content-encoding"), "gzip");
    EXPECT_EQ(reqs[0].Header("x-tenant"), "edge-7");
    ExportLogsServiceRequest req;
    ASSERT_TRUE(otlp::ParseOtlpMessage(reqs[0].body, encoding, kOtlpMaxValueDepth, &req).ok());
    int records = 0;
    for (const auto& rl : req.resource_logs()) {
      for (const auto& sl : rl.scope_logs()) records += sl.log_records_size();
    }
    EXPECT_EQ(records, 4);
    // Every record carries the de-duplication key.
    const auto& first = req.resource_logs(0).scope_logs(0).log_records(0);
    bool has_id = false;
    for (const auto& kv : first.attributes()) {
      if (kv.key() == "cistern.event_id") has_id = kv.value().int_value() == 10;
    }
    EXPECT_TRUE(has_id) << first.DebugString();
  }
}

TEST_F(OtlpSinkTest, ClassifiesAnswers) {
  auto sink = MakeSink(receiver_.Url(), OtlpEncoding::kJson, false);
  ASSERT_TRUE(sink);
  for (int code : {429, 502, 503, 504, 500}) {
    receiver_.SetStatus(code);
    SendResult r = sink->Send(testing::MakeUploadBatch(1, 2));
    EXPECT_EQ(r.outcome, Outcome::kRetry) << code << " " << r.error;
    EXPECT_NE(r.error.find("otlp http://127.0.0.1:"), std::string::npos) << r.error;
  }
  for (int code : {400, 401, 404, 413}) {
    receiver_.SetStatus(code);
    EXPECT_EQ(sink->Send(testing::MakeUploadBatch(1, 2)).outcome, Outcome::kPermanent) << code;
  }
  // A partial success is a success (the rejected records are logged, not retried).
  receiver_.SetStatus(200);
  receiver_.SetResponseBody(
      R"({"partialSuccess":{"rejectedLogRecords":"1","errorMessage":"too big"}})");
  SendResult partial = sink->Send(testing::MakeUploadBatch(1, 2));
  EXPECT_TRUE(partial.ok());
  EXPECT_EQ(partial.rejected, 1) << "counted for /stats and /metrics";
  // Nobody listening: retry.
  receiver_.GoDown();
  EXPECT_EQ(sink->Send(testing::MakeUploadBatch(1, 2)).outcome, Outcome::kRetry);
}

TEST(OtlpSinkOptionsTest, RejectsBadUrlsAndHeaders) {
  OtlpSinkOptions o;
  o.url = "ftp://x";
  EXPECT_FALSE(MakeOtlpSink(o).ok());
  o.url = "http://127.0.0.1:4318";
  o.headers = {"no colon"};
  EXPECT_FALSE(MakeOtlpSink(o).ok());
  o.headers = {"A: b"};
  EXPECT_TRUE(MakeOtlpSink(o).ok());
}

}  // namespace
}  // namespace cistern
