// Hostile OTLP bodies: truncation, wrong wire types, deep nesting, huge repeated fields, bad
// UTF-8, random bytes. Whole-request errors return no events at all (src/event/otlp/decode.h).
#include <gtest/gtest.h>

#include <random>

#include "event/otlp/decode.h"
#include "otlp_samples.h"

namespace cistern {
namespace {

using namespace otlp_test;

Result<OtlpDecoded> Logs(std::string_view body, OtlpEncoding encoding,
                         const OtlpLimits& limits = {}) {
  return DecodeOtlpLogs(body, encoding, limits, kNowMs);
}

std::string ErrorOf(const Result<OtlpDecoded>& r,
                    Status::Code code = Status::Code::kInvalidArgument) {
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "<ok>";
  EXPECT_EQ(r.status().code(), code) << r.status().message();
  return r.status().message();
}

bool Contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

// A length-delimited protobuf field.
std::string Delimited(int field, const std::string& bytes) {
  std::string out(1, static_cast<char>(field << 3 | 2));
  size_t n = bytes.size();
  do {
    out.push_back(static_cast<char>((n & 0x7f) | (n > 0x7f ? 0x80 : 0)));
    n >>= 7;
  } while (n > 0);
  return out + bytes;
}

// An ExportLogsServiceRequest holding one LogRecord whose bytes are `record`.
std::string RequestWithRecord(const std::string& record) {
  return Delimited(1, Delimited(2, Delimited(2, record)));
}

ExportLogsServiceRequest WithBody(const AnyValue& body) {
  ExportLogsServiceRequest request;
  *request.add_resource_logs()->add_scope_logs()->add_log_records()->mutable_body() = body;
  return request;
}

// `depth` kvlists in OTLP/JSON, around a string.
std::string NestedJson(int depth) {
  std::string v = R"({"stringValue":"leaf"})";
  for (int i = 1; i < depth; ++i)
    v = R"({"kvlistValue":{"values":[{"key":"k","value":)" + v + "}]}}";
  return v;
}

TEST(OtlpHostile, EveryTruncationOfARequestIsRefusedUnlessItEndsOnARequestField) {
  ExportLogsServiceRequest request = SampleLogs();
  const std::string body = Body(request, OtlpEncoding::kProtobuf);
  ExportLogsServiceRequest first_only;
  *first_only.add_resource_logs() = request.resource_logs(0);
  const size_t boundary = Body(first_only, OtlpEncoding::kProtobuf).size();
  size_t refused = 0;
  for (size_t n = 0; n < body.size(); ++n) {
    Result<OtlpDecoded> r = Logs(body.substr(0, n), OtlpEncoding::kProtobuf);
    if (n == 0 || n == boundary) {
      EXPECT_TRUE(r.ok()) << n;
      continue;
    }
    EXPECT_TRUE(Contains(ErrorOf(r), "undecodable protobuf ExportLogsServiceRequest")) << n;
    ++refused;
  }
  EXPECT_EQ(refused, body.size() - 2);
}

TEST(OtlpHostile, ADeclaredFieldWithAnotherWireTypeIsUndecodable) {
  // resource_logs (field 1, a message) sent as a varint.
  EXPECT_TRUE(Contains(ErrorOf(Logs(std::string("\x08\x01", 2), OtlpEncoding::kProtobuf)),
                       "field opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest."
                       "resource_logs has the wrong wire type"));
  // LogRecord.time_unix_nano (fixed64) sent as a varint, three messages down.
  EXPECT_TRUE(Contains(
      ErrorOf(Logs(RequestWithRecord(std::string("\x08\x05", 2)), OtlpEncoding::kProtobuf)),
      "LogRecord.time_unix_nano has the wrong wire type"));
  // LogRecord.body (a message) sent as fixed32.
  EXPECT_TRUE(Contains(ErrorOf(Logs(RequestWithRecord(std::string("\x2d\x01\x02\x03\x04", 5)),
                                    OtlpEncoding::kProtobuf)),
                       "LogRecord.body has the wrong wire type"));
  // Wire type 7 does not exist.
  EXPECT_TRUE(Contains(
      ErrorOf(Logs(RequestWithRecord(std::string("\x0f\x00", 2)), OtlpEncoding::kProtobuf)),
      "undecodable"));
}

TEST(OtlpHostile, UndeclaredFieldNumbersAreIgnored) {
  // Field 99 (varint) and field 13 (a string) in a LogRecord, beside severity_text "W".
  std::string record = std::string("\x98\x06\x2a", 3) + Delimited(13, "future") + Delimited(3, "W");
  Result<OtlpDecoded> r = Logs(RequestWithRecord(record), OtlpEncoding::kProtobuf);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].kind, "W");
}

TEST(OtlpHostile, PackedAndUnpackedRepeatedScalarsAreBothAccepted) {
  // HistogramDataPoint.bucket_counts (field 6, repeated fixed64) unpacked: one tag per value.
  std::string point;
  for (char v : {'\x01', '\x02'}) point += std::string("\x31", 1) + v + std::string(7, '\0');
  std::string metric = Delimited(1, "h") + Delimited(9, Delimited(1, point));
  std::string body = Delimited(1, Delimited(2, Delimited(2, metric)));
  Result<OtlpDecoded> r = DecodeOtlpMetrics(body, OtlpEncoding::kProtobuf, {}, kNowMs);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_TRUE(Contains(std::string(r->events[0].payload_json), R"("bucketCounts":["1","2"])"));
}

TEST(OtlpHostile, AnyValueNestingIsLimitedTheSameInBothEncodings) {
  for (OtlpEncoding encoding : {OtlpEncoding::kProtobuf, OtlpEncoding::kJson}) {
    SCOPED_TRACE(encoding == OtlpEncoding::kJson ? "json" : "protobuf");
    ExportLogsServiceRequest ok = WithBody(NestedValue(kOtlpMaxValueDepth));
    EXPECT_TRUE(Logs(Body(ok, encoding), encoding).ok());
    ExportLogsServiceRequest deep = WithBody(NestedValue(kOtlpMaxValueDepth + 1));
    EXPECT_TRUE(Contains(ErrorOf(Logs(Body(deep, encoding), encoding)),
                         "AnyValue nested deeper than 30 levels"));
  }
  // The deepest path: an exemplar's attribute.
  for (int depth : {kOtlpMaxValueDepth, kOtlpMaxValueDepth + 1}) {
    ExportMetricsServiceRequest request;
    auto* m = request.add_resource_metrics()->add_scope_metrics()->add_metrics();
    auto* kv = m->mutable_sum()->add_data_points()->add_exemplars()->add_filtered_attributes();
    kv->set_key("a");
    *kv->mutable_value() = NestedValue(depth);
    for (OtlpEncoding encoding : {OtlpEncoding::kProtobuf, OtlpEncoding::kJson}) {
      Result<OtlpDecoded> r = DecodeOtlpMetrics(Body(request, encoding), encoding, {}, kNowMs);
      EXPECT_EQ(r.ok(), depth <= kOtlpMaxValueDepth) << depth << " " << r.status().message();
    }
  }
}

TEST(OtlpHostile, AbsurdNestingIsRefusedWithoutExhaustingTheStack) {
  std::string json =
      R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":)" + NestedJson(200) + "}]}]}]}";
  EXPECT_TRUE(Contains(ErrorOf(Logs(json, OtlpEncoding::kJson)),
                       "logRecords[0].body.kvlistValue.values[0].value"));
  std::string brackets(100'000, '[');
  EXPECT_TRUE(Contains(ErrorOf(Logs(R"({"resourceLogs":)" + brackets, OtlpEncoding::kJson)),
                       "invalid JSON"));
  // 20,000 nested kvlists in protobuf: stops at the message depth limit.
  std::string value = Delimited(1, "leaf");
  for (int i = 0; i < 20'000; ++i) value = Delimited(6, Delimited(1, Delimited(2, value)));
  EXPECT_TRUE(
      Contains(ErrorOf(Logs(RequestWithRecord(Delimited(5, value)), OtlpEncoding::kProtobuf)),
               "nested more than 100 deep"));
}

TEST(OtlpHostile, HundredThousandRecordsAreTooLargeForTheDefaultLimit) {
  ExportLogsServiceRequest request;
  auto* sl = request.add_resource_logs()->add_scope_logs();
  for (int i = 0; i < 100'000; ++i) sl->add_log_records()->set_severity_text("I");
  std::string json = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[)";
  for (int i = 0; i < 100'000; ++i) json += i == 0 ? "{}" : ",{}";
  json += "]}]}]}";
  for (auto [body, encoding] :
       {std::pair{Body(request, OtlpEncoding::kProtobuf), OtlpEncoding::kProtobuf},
        std::pair{json, OtlpEncoding::kJson}}) {
    EXPECT_EQ(ErrorOf(Logs(body, encoding), Status::Code::kTooLarge),
              "too many log records in one request: 100000 (limit 10000)");
  }
}

TEST(OtlpHostile, HundredThousandAttributesOrBucketsRejectOnlyTheirRecord) {
  ExportLogsServiceRequest request;
  auto* sl = request.add_resource_logs()->add_scope_logs();
  auto* wide = sl->add_log_records();
  for (int i = 0; i < 100'000; ++i) AddAttribute(wide->mutable_attributes(), "k", "v");
  sl->add_log_records()->set_severity_text("kept");
  Result<OtlpDecoded> r = Logs(Body(request, OtlpEncoding::kProtobuf), OtlpEncoding::kProtobuf);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].kind, "kept");
  ASSERT_EQ(r->rejected.size(), 1u);
  EXPECT_EQ(r->rejected[0].index, 0u);

  ExportMetricsServiceRequest metrics;
  auto* points = metrics.add_resource_metrics()
                     ->add_scope_metrics()
                     ->add_metrics()
                     ->mutable_exponential_histogram();
  auto* buckets = points->add_data_points()->mutable_positive();
  for (int i = 0; i < 100'000; ++i) buckets->add_bucket_counts(i);
  points->add_data_points()->set_count(1);
  Result<OtlpDecoded> m =
      DecodeOtlpMetrics(Body(metrics, OtlpEncoding::kJson), OtlpEncoding::kJson, {}, kNowMs);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->events.size(), 1u);
  EXPECT_EQ(m->rejected.size(), 1u);
}

TEST(OtlpHostile, InvalidUtf8InAnyProtobufStringIsUndecodable) {
  ExportLogsServiceRequest request = SampleLogs();
  const char* marker = "#MARK#";
  auto* rl = request.mutable_resource_logs(0);
  std::vector<std::string*> targets = {
      rl->mutable_resource()->mutable_attributes(0)->mutable_value()->mutable_string_value(),
      rl->mutable_resource()->mutable_attributes(1)->mutable_key(),
      rl->mutable_scope_logs(0)->mutable_scope()->mutable_name(),
      rl->mutable_scope_logs(0)->mutable_log_records(0)->mutable_severity_text(),
      rl->mutable_scope_logs(0)->mutable_log_records(0)->mutable_event_name(),
      rl->mutable_scope_logs(0)->mutable_log_records(1)->mutable_body()->mutable_string_value()};
  for (size_t i = 0; i < targets.size(); ++i) {
    SCOPED_TRACE(i);
    std::string saved = *targets[i];
    *targets[i] = marker;
    std::string body = Body(request, OtlpEncoding::kProtobuf);
    *targets[i] = saved;
    size_t at = body.find(marker);
    ASSERT_NE(at, std::string::npos);
    body.replace(at, 6,
                 "ab\xff\xfe"
                 "cd");
    EXPECT_TRUE(Contains(ErrorOf(Logs(body, OtlpEncoding::kProtobuf)), "undecodable"));
  }
}

TEST(OtlpHostile, OneBadRecordRefusesTheWholeRequest) {
  std::string json = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[)";
  for (int i = 0; i < 50; ++i) json += R"({"severityText":"ok"},)";
  json += R"({"spanId":"nothex!!"}]}]}]})";
  Result<OtlpDecoded> r = Logs(json, OtlpEncoding::kJson);
  EXPECT_TRUE(Contains(ErrorOf(r), "logRecords[50].spanId"));
}

// Random bytes and random mutations of real requests: every outcome is a clean value.
TEST(OtlpHostile, RandomAndMutatedBodiesNeverCrashAndFailCleanly) {
  std::mt19937 rng(20240611);
  const std::string seeds[] = {
      Body(SampleLogs(), OtlpEncoding::kProtobuf), Body(SampleLogs(), OtlpEncoding::kJson),
      Body(SampleMetrics(), OtlpEncoding::kProtobuf), Body(SampleMetrics(), OtlpEncoding::kJson)};
  size_t ok = 0, refused = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string body;
    if (round % 4 == 0) {
      body.resize(rng() % 256);
      for (char& c : body) c = static_cast<char>(rng());
    } else {
      body = seeds[rng() % 4];
      for (int flips = 1 + rng() % 4; flips > 0; --flips) {
        body[rng() % body.size()] = static_cast<char>(rng());
      }
    }
    for (OtlpEncoding encoding : {OtlpEncoding::kProtobuf, OtlpEncoding::kJson}) {
      Result<OtlpDecoded> r =
          round % 2 == 0 ? Logs(body, encoding) : DecodeOtlpMetrics(body, encoding, {}, kNowMs);
      if (r.ok()) {
        ++ok;
        for (size_t i = 0; i < r->events.size(); ++i) {
          EXPECT_FALSE(r->events[i].device_id.empty());
          EXPECT_FALSE(r->events[i].kind.empty());
          EXPECT_GT(r->events[i].ts, 0);
        }
      } else {
        ++refused;
        EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().message();
        EXPECT_FALSE(r.status().message().empty());
      }
    }
  }
  EXPECT_GT(ok, 100u);        // mutations inside strings and numbers still decode
  EXPECT_GT(refused, 1000u);  // and most do not
}

}  // namespace
}  // namespace cistern
