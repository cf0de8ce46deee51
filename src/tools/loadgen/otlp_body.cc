#include "tools/loadgen/otlp_body.h"

#include <chrono>
#include <cstdio>

#include "cistern/otlp/logs_service.pb.h"

namespace cistern::loadgen {

namespace logs_v1 = opentelemetry::proto::logs::v1;
using opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse;
using opentelemetry::proto::common::v1::KeyValue;

namespace {

KeyValue* Attr(google::protobuf::RepeatedPtrField<KeyValue>* attrs, const char* key) {
  KeyValue* kv = attrs->Add();
  kv->set_key(key);
  return kv;
}

}  // namespace

void OtlpLogsFactory::Build(int n, std::string* body) {
  const uint64_t now_ns =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  char device[32];
  std::snprintf(device, sizeof device, "sensor-%04llu",
                static_cast<unsigned long long>(next_device_++ % devices_));
  ExportLogsServiceRequest req;
  auto* rl = req.add_resource_logs();
  Attr(rl->mutable_resource()->mutable_attributes(), "device.id")
      ->mutable_value()
      ->set_string_value(device);
  Attr(rl->mutable_resource()->mutable_attributes(), "service.name")
      ->mutable_value()
      ->set_string_value("loadgen");
  auto* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name("cistern-loadgen");
  for (int i = 0; i < n; ++i) {
    const uint64_t seq = next_record_++;
    auto* r = sl->add_log_records();
    r->set_time_unix_nano(now_ns + static_cast<uint64_t>(i));
    r->set_observed_time_unix_nano(now_ns);
    const bool error = seq % 17 == 0;
    r->set_severity_number(error ? logs_v1::SEVERITY_NUMBER_ERROR : logs_v1::SEVERITY_NUMBER_INFO);
    r->set_severity_text(error ? "ERROR" : "INFO");
    r->mutable_body()->set_string_value("reading " + std::to_string(seq) +
                                        ": temperature nominal, \"door\" closed");
    Attr(r->mutable_attributes(), "seq")->mutable_value()->set_int_value(static_cast<int64_t>(seq));
    Attr(r->mutable_attributes(), "temperature")
        ->mutable_value()
        ->set_double_value(20.0 + static_cast<double>(seq % 100) / 10);
    std::string trace(16, '\0'), span(8, '\0');
    for (int b = 0; b < 8; ++b) {
      trace[b] = span[b] = static_cast<char>((seq >> (8 * b)) & 0xff);
      trace[8 + b] = static_cast<char>(0x5a);
    }
    r->set_trace_id(trace);
    r->set_span_id(span);
  }
  req.SerializeToString(body);
}

bool OtlpLogsAccepted(std::string_view body, std::string* why) {
  ExportLogsServiceResponse resp;
  if (!resp.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    *why = "not an ExportLogsServiceResponse";
    return false;
  }
  if (resp.has_partial_success() && resp.partial_success().rejected_log_records() > 0) {
    *why = "partial_success: " + std::to_string(resp.partial_success().rejected_log_records()) +
           " rejected: " + resp.partial_success().error_message();
    return false;
  }
  return true;
}

}  // namespace cistern::loadgen
