#include "otlp_requests.h"

#include <gtest/gtest.h>

#include "event/otlp/message_io.h"

namespace cistern::testing {
namespace {

using opentelemetry::proto::common::v1::KeyValue;

void Attr(google::protobuf::RepeatedPtrField<KeyValue>* attrs, const std::string& key,
          const std::string& value) {
  KeyValue* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

std::string Hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

}  // namespace

ExportLogsServiceRequest TwoLogs(const std::string& device) {
  ExportLogsServiceRequest req;
  auto* rl = req.add_resource_logs();
  Attr(rl->mutable_resource()->mutable_attributes(), "device.id", device);
  Attr(rl->mutable_resource()->mutable_attributes(), "service.name", "svc");
  auto* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name("scope-a");
  sl->mutable_scope()->set_version("1.0");
  auto* a = sl->add_log_records();
  a->set_time_unix_nano(1'700'000'000'123'456'789ULL);
  a->set_event_name("login");
  a->set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_INFO);
  a->mutable_body()->set_string_value("hello");
  Attr(a->mutable_attributes(), "user", "alice");
  KeyValue* n = a->add_attributes();
  n->set_key("n");
  n->mutable_value()->set_int_value(7);
  a->set_trace_id(Hex("5b8efff798038103d269b633813fc60c"));
  a->set_span_id(Hex("eee19b7ec3c1b174"));
  auto* b = sl->add_log_records();
  b->set_observed_time_unix_nano(1'700'000'001'000'000'000ULL);
  b->set_severity_text("WARN");
  b->set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_WARN);
  b->mutable_body()->set_string_value("second");
  return req;
}

ExportMetricsServiceRequest ThreePoints(const std::string& device) {
  ExportMetricsServiceRequest req;
  auto* rm = req.add_resource_metrics();
  Attr(rm->mutable_resource()->mutable_attributes(), "device.id", device);
  auto* m = rm->add_scope_metrics()->add_metrics();
  m->set_name("cpu.temp");
  m->set_unit("Cel");
  for (int i = 0; i < 3; ++i) {
    auto* p = m->mutable_gauge()->add_data_points();
    p->set_time_unix_nano(1'700'000'000'123'456'789ULL + i * 1'000'000'000ULL);
    p->set_as_double(41.5 + i);
    Attr(p->mutable_attributes(), "core", std::to_string(i));
  }
  return req;
}

std::string ToProtobuf(const google::protobuf::Message& m) {
  std::string out;
  EXPECT_TRUE(otlp::SerializeOtlpMessage(m, OtlpEncoding::kProtobuf, &out).ok());
  return out;
}

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  EXPECT_TRUE(otlp::SerializeOtlpMessage(m, OtlpEncoding::kJson, &out).ok());
  return out;
}

bool FromJson(const std::string& json, google::protobuf::Message* m) {
  return otlp::ParseOtlpMessage(json, OtlpEncoding::kJson, kOtlpMaxValueDepth, m).ok();
}

}  // namespace cistern::testing
