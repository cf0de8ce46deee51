// OTLP in -> events -> OTLP out (src/event/otlp/encode.h), and partial_success (response.h).
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "event/otlp/decode.h"
#include "event/otlp/encode.h"
#include "event/otlp/message_io.h"
#include "event/otlp/otlp_json.h"
#include "event/otlp/response.h"
#include "otlp_samples.h"

namespace cistern {
namespace {

using namespace otlp_test;
using google::protobuf::util::MessageDifferencer;

// The events of a batch as OtlpStoredEvents with ids 1..n (views into `batch`).
std::vector<OtlpStoredEvent> AsStored(const EventBatch& batch) {
  std::vector<OtlpStoredEvent> out;
  for (size_t i = 0; i < batch.size(); ++i) {
    EventView e = batch[i];
    out.push_back(
        {static_cast<int64_t>(i + 1), e.device_id, e.kind, e.payload_json, e.has_payload, e.ts});
  }
  return out;
}

const char* Name(OtlpEncoding e) { return e == OtlpEncoding::kJson ? "json" : "protobuf"; }

template <typename Request>
Request Parse(const std::string& body, OtlpEncoding encoding) {
  Request request;
  Status s = otlp::ParseOtlpMessage(body, encoding, kOtlpMaxValueDepth, &request);
  EXPECT_TRUE(s.ok()) << s.message();
  return request;
}

OtlpExport Export(const std::vector<OtlpStoredEvent>& events, OtlpEncoding encoding,
                  const OtlpEncodeOptions& options = {}) {
  Result<OtlpExport> r = EncodeOtlpExport(events, "node-a", encoding, options);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(r).value() : OtlpExport{};
}

// Every combination of input and output encoding.
class OtlpRoundTrip : public ::testing::TestWithParam<std::pair<OtlpEncoding, OtlpEncoding>> {};

TEST_P(OtlpRoundTrip, LogsComeBackAsTheRecordsTheyWere) {
  auto [in, out] = GetParam();
  ExportLogsServiceRequest original = SampleLogs();
  Result<OtlpDecoded> d = DecodeOtlpLogs(Body(original, in), in, {}, kNowMs);
  ASSERT_TRUE(d.ok()) << d.status().message();
  OtlpExport e = Export(AsStored(d->events), out);
  EXPECT_EQ(e.log_records, 5u);
  EXPECT_EQ(e.data_points, 0u);
  EXPECT_TRUE(e.metrics_body.empty());
  auto back = Parse<ExportLogsServiceRequest>(e.logs_body, out);
  std::string diff;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(original, back)) << diff;
}

TEST_P(OtlpRoundTrip, MetricsComeBackAsThePointsTheyWere) {
  auto [in, out] = GetParam();
  ExportMetricsServiceRequest original = SampleMetrics();
  Result<OtlpDecoded> d = DecodeOtlpMetrics(Body(original, in), in, {}, kNowMs);
  ASSERT_TRUE(d.ok()) << d.status().message();
  OtlpExport e = Export(AsStored(d->events), out);
  EXPECT_EQ(e.data_points, kSampleMetricPoints);
  EXPECT_EQ(e.log_records, 0u);
  EXPECT_TRUE(e.logs_body.empty());
  auto back = Parse<ExportMetricsServiceRequest>(e.metrics_body, out);
  std::string diff;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(original, back)) << diff;
}

INSTANTIATE_TEST_SUITE_P(Encodings, OtlpRoundTrip,
                         ::testing::Values(std::pair{OtlpEncoding::kProtobuf,
                                                     OtlpEncoding::kProtobuf},
                                           std::pair{OtlpEncoding::kJson, OtlpEncoding::kJson},
                                           std::pair{OtlpEncoding::kJson, OtlpEncoding::kProtobuf},
                                           std::pair{OtlpEncoding::kProtobuf, OtlpEncoding::kJson}),
                         [](const auto& info) {
                           return std::string(Name(info.param.first)) + "_to_" +
                                  Name(info.param.second);
                         });

TEST(OtlpExport, RecordsOfIdenticalResourceAndScopeAreGroupedInFirstSeenOrder) {
  // Two requests from the same resource and scope, decoded separately, interleaved with
  // another resource.
  auto request = [](const std::string& device, const std::string& text) {
    ExportLogsServiceRequest r;
    auto* rl = r.add_resource_logs();
    AddAttribute(rl->mutable_resource()->mutable_attributes(), "device.id", device);
    auto* sl = rl->add_scope_logs();
    sl->mutable_scope()->set_name("s");
    sl->add_log_records()->set_severity_text(text);
    return Body(r, OtlpEncoding::kProtobuf);
  };
  EventBatch all;
  for (auto [device, text] : {std::pair{"a", "1"}, {"b", "2"}, {"a", "3"}}) {
    OtlpDecoded d =
        DecodeOtlpLogs(request(device, text), OtlpEncoding::kProtobuf, {}, kNowMs).value();
    all.Add(d.events[0].device_id, d.events[0].kind, d.events[0].payload_json, true,
            d.events[0].ts);
  }
  OtlpExport e = Export(AsStored(all), OtlpEncoding::kProtobuf);
  auto back = Parse<ExportLogsServiceRequest>(e.logs_body, OtlpEncoding::kProtobuf);
  ASSERT_EQ(back.resource_logs_size(), 2);
  ASSERT_EQ(back.resource_logs(0).scope_logs_size(), 1);
  const auto& a = back.resource_logs(0).scope_logs(0);
  ASSERT_EQ(a.log_records_size(), 2);
  EXPECT_EQ(a.log_records(0).severity_text(), "1");
  EXPECT_EQ(a.log_records(1).severity_text(), "3");
  EXPECT_EQ(back.resource_logs(1).resource().attributes(0).value().string_value(), "b");
}

TEST(OtlpExport, PointsOfTheSameMetricShareOneMetric) {
  OtlpDecoded d = DecodeOtlpMetrics(Body(SampleMetrics(), OtlpEncoding::kProtobuf),
                                    OtlpEncoding::kProtobuf, {}, kNowMs)
                      .value();
  // Only the two "requests" points (events 2 and 3), in reverse order.
  std::vector<OtlpStoredEvent> stored = AsStored(d.events);
  OtlpExport e = Export({stored[3], stored[2]}, OtlpEncoding::kProtobuf);
  auto back = Parse<ExportMetricsServiceRequest>(e.metrics_body, OtlpEncoding::kProtobuf);
  ASSERT_EQ(back.resource_metrics_size(), 1);
  ASSERT_EQ(back.resource_metrics(0).scope_metrics(0).metrics_size(), 1);
  const auto& sum = back.resource_metrics(0).scope_metrics(0).metrics(0).sum();
  ASSERT_EQ(sum.data_points_size(), 2);
  EXPECT_EQ(sum.data_points(0).as_int(), 1001);
  EXPECT_EQ(sum.data_points(1).as_int(), 1000);
  EXPECT_TRUE(sum.is_monotonic());
}

TEST(OtlpExport, NativeEventsBecomeLogRecords) {
  std::string payload = R"({"temp":21.5,"tags":["a",true],"n":null,"big":18446744073709551615,)"
                        R"("neg":-3,"s":"x"})";
  std::vector<OtlpStoredEvent> events = {
      {7, "sensor-1", "telemetry", payload, true, 1'700'000'000'123},
      {8, "sensor-2", "boot", "", false, 1'700'000'000'124},
      {9, "sensor-1", "note", R"("just text")", true, 1'700'000'000'125}};
  OtlpExport e = Export(events, OtlpEncoding::kProtobuf);
  EXPECT_EQ(e.log_records, 3u);
  auto back = Parse<ExportLogsServiceRequest>(e.logs_body, OtlpEncoding::kProtobuf);
  ASSERT_EQ(back.resource_logs_size(), 2);  // one per device
  const auto& rl = back.resource_logs(0);
  ASSERT_EQ(rl.resource().attributes_size(), 1);
  EXPECT_EQ(rl.resource().attributes(0).key(), "device.id");
  EXPECT_EQ(rl.resource().attributes(0).value().string_value(), "sensor-1");
  EXPECT_EQ(rl.scope_logs(0).scope().name(), "cistern");
  ASSERT_EQ(rl.scope_logs(0).log_records_size(), 2);
  const LogRecord& r = rl.scope_logs(0).log_records(0);
  EXPECT_EQ(r.time_unix_nano(), 1'700'000'000'123'000'000ULL);
  EXPECT_EQ(r.observed_time_unix_nano(), r.time_unix_nano());
  EXPECT_EQ(r.event_name(), "telemetry");
  std::map<std::string, std::string> attributes;
  for (const auto& kv : r.attributes()) attributes[kv.key()] = kv.value().ShortDebugString();
  EXPECT_EQ(attributes["cistern.device_id"], R"(string_value: "sensor-1")");
  EXPECT_EQ(attributes["cistern.kind"], R"(string_value: "telemetry")");
  EXPECT_EQ(attributes["cistern.node_id"], R"(string_value: "node-a")");
  EXPECT_EQ(attributes["cistern.event_id"], "int_value: 7");
  ASSERT_TRUE(r.body().has_kvlist_value());
  const auto& body = r.body().kvlist_value();
  ASSERT_EQ(body.values_size(), 6);
  EXPECT_EQ(body.values(0).key(), "temp");
  EXPECT_EQ(body.values(0).value().double_value(), 21.5);
  EXPECT_EQ(body.values(1).value().array_value().values(1).bool_value(), true);
  EXPECT_EQ(body.values(2).value().value_case(), AnyValue::VALUE_NOT_SET);
  EXPECT_EQ(body.values(3).value().double_value(), 18446744073709551615.0);
  EXPECT_EQ(body.values(4).value().int_value(), -3);
  EXPECT_EQ(rl.scope_logs(0).log_records(1).body().string_value(), "just text");
  EXPECT_FALSE(back.resource_logs(1).scope_logs(0).log_records(0).has_body());
}

TEST(OtlpExport, ANativePayloadTooDeepForOtlpGoesAsItsText) {
  std::string deep = "1";
  for (int i = 0; i < kOtlpMaxValueDepth; ++i) deep = "[" + deep + "]";  // depth 31
  std::string fits = deep.substr(1, deep.size() - 2);                    // depth 30
  OtlpExport e =
      Export({{1, "d", "k", deep, true, 1}, {2, "d", "k", fits, true, 1}}, OtlpEncoding::kProtobuf);
  auto back = Parse<ExportLogsServiceRequest>(e.logs_body, OtlpEncoding::kProtobuf);
  const auto& records = back.resource_logs(0).scope_logs(0).log_records();
  ASSERT_EQ(records.size(), 2);
  EXPECT_EQ(records[0].body().string_value(), deep);
  EXPECT_TRUE(records[1].body().has_array_value());
}

TEST(OtlpExport, TaggingAddsTheEventIdToOtlpLogRecordsOnlyWhenAsked) {
  ExportLogsServiceRequest request;
  request.add_resource_logs()->add_scope_logs()->add_log_records()->set_severity_text("x");
  OtlpDecoded d =
      DecodeOtlpLogs(Body(request, OtlpEncoding::kProtobuf), OtlpEncoding::kProtobuf, {}, kNowMs)
          .value();
  for (bool tag : {false, true}) {
    OtlpEncodeOptions options;
    options.tag_otlp_log_records = tag;
    OtlpExport e = Export(AsStored(d.events), OtlpEncoding::kProtobuf, options);
    auto back = Parse<ExportLogsServiceRequest>(e.logs_body, OtlpEncoding::kProtobuf);
    const LogRecord& r = back.resource_logs(0).scope_logs(0).log_records(0);
    ASSERT_EQ(r.attributes_size(), tag ? 2 : 0);
    if (tag) {
      EXPECT_EQ(r.attributes(0).key(), "cistern.node_id");
      EXPECT_EQ(r.attributes(1).key(), "cistern.event_id");
      EXPECT_EQ(r.attributes(1).value().int_value(), 1);
    }
  }
}

TEST(OtlpExport, ADamagedOtlpPayloadGoesOutAsANativeEvent) {
  std::string damaged = R"({"otlp":"log","record":{"traceId":"zz"}})";
  std::string not_otlp = R"({"otlp":"trace","record":{}})";
  OtlpExport e = Export({{1, "d", "k", damaged, true, 5}, {2, "d", "k", not_otlp, true, 5}},
                        OtlpEncoding::kJson);
  EXPECT_EQ(e.log_records, 2u);
  auto back = Parse<ExportLogsServiceRequest>(e.logs_body, OtlpEncoding::kJson);
  const auto& records = back.resource_logs(0).scope_logs(0).log_records();
  ASSERT_EQ(records.size(), 2);
  EXPECT_EQ(records[0].body().kvlist_value().values(0).key(), "otlp");
  EXPECT_EQ(records[0].event_name(), "k");
}

TEST(OtlpExport, AMixedBatchSplitsIntoLogsAndMetrics) {
  OtlpDecoded logs =
      DecodeOtlpLogs(Body(SampleLogs(), OtlpEncoding::kJson), OtlpEncoding::kJson, {}, kNowMs)
          .value();
  OtlpDecoded metrics =
      DecodeOtlpMetrics(Body(SampleMetrics(), OtlpEncoding::kJson), OtlpEncoding::kJson, {}, kNowMs)
          .value();
  std::vector<OtlpStoredEvent> events = AsStored(logs.events);
  for (const OtlpStoredEvent& m : AsStored(metrics.events)) events.push_back(m);
  events.push_back({99, "d", "k", "", false, 1});
  OtlpExport e = Export(events, OtlpEncoding::kJson);
  EXPECT_EQ(e.log_records, 6u);
  EXPECT_EQ(e.data_points, kSampleMetricPoints);
  EXPECT_EQ(e.logs_body.substr(0, 16), R"({"resourceLogs":)");
  EXPECT_EQ(e.metrics_body.substr(0, 19), R"({"resourceMetrics":)");
  EXPECT_TRUE(Export({}, OtlpEncoding::kJson).logs_body.empty());
}

TEST(OtlpJsonPrinter, MatchesLibprotobufWhereLibprotobufCanPrint) {
  // No ids (libprotobuf prints them in base64) and shallow values: the two printers agree.
  ExportMetricsServiceRequest metrics = SampleMetrics();
  for (auto& rm : *metrics.mutable_resource_metrics()) {
    for (auto& sm : *rm.mutable_scope_metrics()) {
      for (auto& m : *sm.mutable_metrics()) {
        if (m.has_gauge()) {
          for (auto& p : *m.mutable_gauge()->mutable_data_points()) p.clear_exemplars();
        }
        if (m.has_histogram()) {
          for (auto& p : *m.mutable_histogram()->mutable_data_points()) p.clear_exemplars();
        }
        if (m.has_exponential_histogram()) {
          for (auto& p : *m.mutable_exponential_histogram()->mutable_data_points()) {
            p.clear_exemplars();
          }
        }
      }
    }
  }
  std::string ours, theirs;
  otlp::AppendOtlpJson(metrics, &ours);
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_enums_as_ints = true;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(metrics, &theirs, options).ok());
  EXPECT_EQ(ours, theirs);
}

TEST(OtlpResponse, PartialSuccessRoundTripsInBothEncodings) {
  for (OtlpEncoding encoding : {OtlpEncoding::kProtobuf, OtlpEncoding::kJson}) {
    SCOPED_TRACE(Name(encoding));
    OtlpPartialSuccess sent{true, 3, "3 log records rejected; first: record 0: too big"};
    Result<OtlpPartialSuccess> logs =
        DecodeOtlpLogsResponse(EncodeOtlpLogsResponse(sent, encoding), encoding);
    ASSERT_TRUE(logs.ok()) << logs.status().message();
    EXPECT_TRUE(logs->present);
    EXPECT_EQ(logs->rejected, 3);
    EXPECT_EQ(logs->error_message, sent.error_message);
    sent.rejected = 0;  // a warning
    Result<OtlpPartialSuccess> metrics =
        DecodeOtlpMetricsResponse(EncodeOtlpMetricsResponse(sent, encoding), encoding);
    ASSERT_TRUE(metrics.ok());
    EXPECT_TRUE(metrics->present);
    EXPECT_EQ(metrics->rejected, 0);
    // Full success: no partial_success.
    Result<OtlpPartialSuccess> full =
        DecodeOtlpLogsResponse(EncodeOtlpLogsResponse({}, encoding), encoding);
    ASSERT_TRUE(full.ok());
    EXPECT_FALSE(full->present);
    EXPECT_TRUE(DecodeOtlpLogsResponse("", encoding).ok());
  }
  EXPECT_EQ(EncodeOtlpLogsResponse({true, 2, "m"}, OtlpEncoding::kJson),
            R"({"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"m"}})");
}

TEST(OtlpResponse, UpstreamResponsesInEitherNumberFormAreRead) {
  for (const char* body :
       {R"({"partialSuccess":{"rejectedDataPoints":"4","errorMessage":"e"}})",
        R"({"partialSuccess":{"rejectedDataPoints":4,"errorMessage":"e"},"x":1})"}) {
    Result<OtlpPartialSuccess> r = DecodeOtlpMetricsResponse(body, OtlpEncoding::kJson);
    ASSERT_TRUE(r.ok()) << body;
    EXPECT_EQ(r->rejected, 4);
    EXPECT_EQ(r->error_message, "e");
  }
  Result<OtlpPartialSuccess> bad = DecodeOtlpLogsResponse("<html>502</html>", OtlpEncoding::kJson);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(bad.status().message().substr(0, 14), "OTLP response:");
  EXPECT_FALSE(DecodeOtlpLogsResponse("\x0a\x05", OtlpEncoding::kProtobuf).ok());
}

}  // namespace
}  // namespace cistern
