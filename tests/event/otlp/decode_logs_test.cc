// DecodeOtlpLogs: the mapping rules of src/event/otlp/decode.h and docs/otlp.md.
#include <gtest/gtest.h>

#include "event/otlp/decode.h"
#include "otlp_samples.h"

namespace cistern {
namespace {

using namespace otlp_test;
using opentelemetry::proto::resource::v1::Resource;

OtlpDecoded DecodeOk(const ExportLogsServiceRequest& request, OtlpEncoding encoding,
                     const OtlpLimits& limits = {}, const OtlpDecodeOptions& options = {}) {
  Result<OtlpDecoded> r =
      DecodeOtlpLogs(Body(request, encoding), encoding, limits, kNowMs, options);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(r).value() : OtlpDecoded{};
}

// A request with one record under a resource holding `attributes`.
ExportLogsServiceRequest WithResource(const Resource& resource) {
  ExportLogsServiceRequest request;
  auto* rl = request.add_resource_logs();
  *rl->mutable_resource() = resource;
  rl->add_scope_logs()->add_log_records()->set_time_unix_nano(kTimeNanos);
  return request;
}

std::string DeviceOf(const Resource& resource, const OtlpDecodeOptions& options = {}) {
  OtlpDecoded d = DecodeOk(WithResource(resource), OtlpEncoding::kProtobuf, {}, options);
  return d.events.size() == 1 ? std::string(d.events[0].device_id) : "<no event>";
}

TEST(OtlpDecodeLogs, OneEventPerRecordInRequestOrder) {
  OtlpDecoded d = DecodeOk(SampleLogs(), OtlpEncoding::kProtobuf);
  ASSERT_EQ(d.events.size(), 5u);
  EXPECT_TRUE(d.rejected.empty());
  const char* devices[] = {"pump-7", "pump-7", "pump-7", "unknown", "unknown"};
  const char* kinds[] = {"disk.full", "INFO", "log", "log", "log"};
  const int64_t ms = 1'700'000'000'123;
  const int64_t ts[] = {ms, ms, kNowMs, ms, ms + 1};
  for (size_t i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(d.events[i].device_id, devices[i]);
    EXPECT_EQ(d.events[i].kind, kinds[i]);
    EXPECT_EQ(d.events[i].ts, ts[i]);
    EXPECT_TRUE(d.events[i].has_payload);
    EXPECT_EQ(d.events[i].payload_json.substr(0, 14), R"({"otlp":"log",)");
  }
}

TEST(OtlpDecodeLogs, DeviceIdIsTheFirstConfiguredAttributePresent) {
  Resource r;
  AddAttribute(r.mutable_attributes(), "service.name", "svc");
  AddAttribute(r.mutable_attributes(), "host.name", "host-1");
  EXPECT_EQ(DeviceOf(r), "host-1");  // host.name comes before service.name in the list
  AddAttribute(r.mutable_attributes(), "device.id", "dev-1");
  EXPECT_EQ(DeviceOf(r), "dev-1");
  OtlpDecodeOptions only_service;
  only_service.device_id_attributes = {"service.name"};
  EXPECT_EQ(DeviceOf(r, only_service), "svc");
}

TEST(OtlpDecodeLogs, DeviceIdTakesStringsAndIntegersOnly) {
  Resource r;
  r.add_attributes()->set_key("device.id");
  r.mutable_attributes(0)->mutable_value()->set_bool_value(true);  // not an identifier
  AddAttribute(r.mutable_attributes(), "host.name", "");           // empty: not present
  r.add_attributes()->set_key("service.instance.id");
  r.mutable_attributes(2)->mutable_value()->set_int_value(-42);
  EXPECT_EQ(DeviceOf(r), "-42");
}

TEST(OtlpDecodeLogs, DeviceIdFallsBackWhenNoAttributeIsPresent) {
  Resource r;
  AddAttribute(r.mutable_attributes(), "k8s.pod.name", "p");
  EXPECT_EQ(DeviceOf(r), "unknown");
  OtlpDecodeOptions options;
  options.fallback_device_id = "gateway-3";
  EXPECT_EQ(DeviceOf(r, options), "gateway-3");
  options.fallback_device_id = "";
  EXPECT_EQ(DeviceOf(r, options), "unknown");
}

TEST(OtlpDecodeLogs, KindAndDeviceIdAreMadeValidFields) {
  ExportLogsServiceRequest request;
  auto* rl = request.add_resource_logs();
  std::string long_id = "a";
  for (int i = 0; i < 150; ++i) long_id += "\xc3\xa9";  // 301 bytes of 2-byte characters
  AddAttribute(rl->mutable_resource()->mutable_attributes(), "device.id", long_id);
  auto* record = rl->add_scope_logs()->add_log_records();
  record->set_event_name("door\nopened\x7f");
  OtlpDecoded d = DecodeOk(request, OtlpEncoding::kProtobuf);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].kind, "door_opened_");
  // Cut to 256 bytes without splitting a character: 'a' + 127 two-byte characters.
  EXPECT_EQ(d.events[0].device_id.size(), 255u);
  EXPECT_EQ(d.events[0].device_id, long_id.substr(0, 255));
  // The payload keeps the original text.
  EXPECT_NE(d.events[0].payload_json.find(R"("eventName":"door\nopened)"), std::string::npos)
      << d.events[0].payload_json;
}

TEST(OtlpDecodeLogs, KindPrefersEventNameThenSeverityText) {
  ExportLogsServiceRequest request;
  auto* sl = request.add_resource_logs()->add_scope_logs();
  auto* both = sl->add_log_records();
  both->set_event_name("e");
  both->set_severity_text("ERROR");
  sl->add_log_records()->set_severity_text("ERROR");
  sl->add_log_records()->set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_FATAL);
  OtlpDecoded d = DecodeOk(request, OtlpEncoding::kProtobuf);
  ASSERT_EQ(d.events.size(), 3u);
  EXPECT_EQ(d.events[0].kind, "e");
  EXPECT_EQ(d.events[1].kind, "ERROR");
  EXPECT_EQ(d.events[2].kind, "log");
}

TEST(OtlpDecodeLogs, TimestampFallsBackFromTimeToObservedToNow) {
  ExportLogsServiceRequest request;
  auto* sl = request.add_resource_logs()->add_scope_logs();
  auto* both = sl->add_log_records();
  both->set_time_unix_nano(2'000'000'000'000'000'000ULL);
  both->set_observed_time_unix_nano(3'000'000'000'000'000'000ULL);
  auto* sub_ms = sl->add_log_records();  // under 1 ms: as if absent
  sub_ms->set_time_unix_nano(999'999);
  sub_ms->set_observed_time_unix_nano(3'000'000'000'000'000'000ULL);
  sl->add_log_records()->set_time_unix_nano(999'999);
  OtlpDecoded d = DecodeOk(request, OtlpEncoding::kProtobuf);
  ASSERT_EQ(d.events.size(), 3u);
  EXPECT_EQ(d.events[0].ts, 2'000'000'000'000);
  EXPECT_EQ(d.events[1].ts, 3'000'000'000'000);
  EXPECT_EQ(d.events[2].ts, kNowMs);
}

TEST(OtlpDecodeLogs, PayloadIsTheRecordInOtlpJsonUnderTheEnvelope) {
  ExportLogsServiceRequest request;
  auto* rl = request.add_resource_logs();
  AddAttribute(rl->mutable_resource()->mutable_attributes(), "device.id", "d");
  rl->set_schema_url("s1");
  auto* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name("n");
  auto* record = sl->add_log_records();
  record->set_time_unix_nano(kTimeNanos);
  record->set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_INFO);
  record->mutable_body()->set_string_value("hi");
  record->add_attributes()->set_key("n");
  record->mutable_attributes(0)->mutable_value()->set_int_value(7);
  record->set_trace_id(
      std::string("\x5b\x8e\xff\xf7\x98\x03\x81\x03\xd2\x69\xb6\x33\x81\x3f\xc6\x0c", 16));
  record->set_span_id(std::string("\xee\xe1\x9b\x7e\xc3\xc1\xb1\x74", 8));
  OtlpDecoded d = DecodeOk(request, OtlpEncoding::kProtobuf);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].payload_json,
            R"({"otlp":"log","resource":{"attributes":[{"key":"device.id","value":)"
            R"({"stringValue":"d"}}]},"resourceSchemaUrl":"s1","scope":{"name":"n"},)"
            R"("record":{"timeUnixNano":"1700000000123456789","severityNumber":9,)"
            R"("body":{"stringValue":"hi"},"attributes":[{"key":"n","value":{"intValue":"7"}}],)"
            R"("traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}})");
}

TEST(OtlpDecodeLogs, AnEmptyRequestIsValidAndHoldsNoEvents) {
  for (auto [body, encoding] :
       {std::pair<std::string, OtlpEncoding>{"", OtlpEncoding::kProtobuf},
        {"{}", OtlpEncoding::kJson},
        {R"({"resourceLogs":[{"scopeLogs":[{}]}]})", OtlpEncoding::kJson}}) {
    Result<OtlpDecoded> r = DecodeOtlpLogs(body, encoding, {}, kNowMs);
    ASSERT_TRUE(r.ok()) << body << ": " << r.status().message();
    EXPECT_TRUE(r->events.empty());
    EXPECT_TRUE(r->rejected.empty());
  }
}

TEST(OtlpDecodeLogs, AnOversizedRecordIsRejectedAloneWithItsPayload) {
  ExportLogsServiceRequest request;
  auto* sl = request.add_resource_logs()->add_scope_logs();
  sl->add_log_records()->mutable_body()->set_string_value("small");
  auto* big = sl->add_log_records();
  big->mutable_body()->set_string_value(std::string(1000, 'x'));
  big->set_event_name("big.one");
  sl->add_log_records()->mutable_body()->set_string_value("small too");
  OtlpLimits limits;
  limits.max_payload_bytes = 600;
  OtlpDecoded d = DecodeOk(request, OtlpEncoding::kJson, limits);
  ASSERT_EQ(d.events.size(), 2u);
  EXPECT_NE(d.events[1].payload_json.find("small too"), std::string::npos);
  ASSERT_EQ(d.rejected.size(), 1u);
  const OtlpRejected& r = d.rejected[0];
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(r.kind, "big.one");
  EXPECT_EQ(r.device_id, "unknown");
  EXPECT_EQ(r.ts, kNowMs);
  EXPECT_GT(r.payload_json.size(), 1000u);
  EXPECT_NE(r.payload_json.find(std::string(1000, 'x')), std::string::npos);
  EXPECT_NE(r.reason.find("over the limit of 600"), std::string::npos) << r.reason;
  EXPECT_EQ(OtlpRejectedMessage(d.rejected, "log records"),
            "1 log records rejected; first: " + r.reason);
  EXPECT_EQ(OtlpRejectedMessage({}, "log records"), "");
}

TEST(OtlpDecodeLogs, TooManyRecordsRefusesTheWholeRequest) {
  ExportLogsServiceRequest request = SampleLogs();  // 5 records over 2 resources
  OtlpLimits limits;
  limits.max_records = 4;
  for (OtlpEncoding encoding : {OtlpEncoding::kProtobuf, OtlpEncoding::kJson}) {
    Result<OtlpDecoded> r = DecodeOtlpLogs(Body(request, encoding), encoding, limits, kNowMs);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kTooLarge);
    EXPECT_EQ(r.status().message(), "too many log records in one request: 5 (limit 4)");
  }
  limits.max_records = 5;
  EXPECT_EQ(DecodeOk(request, OtlpEncoding::kProtobuf, limits).events.size(), 5u);
}

TEST(OtlpDecodeLogs, BothEncodingsOfARequestGiveIdenticalEvents) {
  OtlpDecoded binary = DecodeOk(SampleLogs(), OtlpEncoding::kProtobuf);
  OtlpDecoded json = DecodeOk(SampleLogs(), OtlpEncoding::kJson);
  ASSERT_EQ(binary.events.size(), 5u);
  ASSERT_EQ(json.events.size(), binary.events.size());
  for (size_t i = 0; i < binary.events.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(json.events[i].device_id, binary.events[i].device_id);
    EXPECT_EQ(json.events[i].kind, binary.events[i].kind);
    EXPECT_EQ(json.events[i].ts, binary.events[i].ts);
    EXPECT_EQ(json.events[i].payload_json, binary.events[i].payload_json);
  }
}

}  // namespace
}  // namespace cistern
