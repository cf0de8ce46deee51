// DecodeOtlpLogs (decode.h): one event per LogRecord.
#include <exception>

#include "cistern/otlp/logs_service.pb.h"
#include "event/otlp/decode.h"
#include "event/otlp/decode_common.h"
#include "event/otlp/message_io.h"
#include "event/otlp/otlp_json.h"
#include "event/otlp/payload.h"

namespace cistern {
namespace {

using opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using opentelemetry::proto::logs::v1::LogRecord;

std::string KindOf(const LogRecord& record, size_t max_field_bytes) {
  for (const std::string* source : {&record.event_name(), &record.severity_text()}) {
    std::string kind = otlp::FieldText(*source, max_field_bytes);
    if (!kind.empty()) return kind;
  }
  return "log";
}

int64_t TimestampOf(const LogRecord& record, int64_t now_ms) {
  if (int64_t ms = otlp::NanosToMs(record.time_unix_nano()); ms > 0) return ms;
  if (int64_t ms = otlp::NanosToMs(record.observed_time_unix_nano()); ms > 0) return ms;
  return now_ms;
}

Result<OtlpDecoded> Map(const ExportLogsServiceRequest& request, size_t body_bytes, size_t records,
                        const OtlpLimits& limits, int64_t now_ms,
                        const OtlpDecodeOptions& options) {
  OtlpDecoded out;
  out.events.Reserve(records, body_bytes * 2);
  otlp::EventCollector collector(limits, &out);
  std::string prefix, payload;
  for (const auto& resource_logs : request.resource_logs()) {
    const auto* resource = resource_logs.has_resource() ? &resource_logs.resource() : nullptr;
    std::string device_id = otlp::DeviceIdOf(resource, options, limits.max_field_bytes);
    for (const auto& scope_logs : resource_logs.scope_logs()) {
      const auto* scope = scope_logs.has_scope() ? &scope_logs.scope() : nullptr;
      otlp::PayloadPrefix(otlp::Signal::kLog, resource, resource_logs.schema_url(), scope,
                          scope_logs.schema_url(), &prefix);
      for (const LogRecord& record : scope_logs.log_records()) {
        payload = prefix;
        otlp::AppendOtlpJson(record, &payload);
        payload += '}';
        collector.Add(device_id, KindOf(record, limits.max_field_bytes),
                      TimestampOf(record, now_ms), payload);
      }
    }
  }
  return out;
}

}  // namespace

Result<OtlpDecoded> DecodeOtlpLogs(std::string_view body, OtlpEncoding encoding,
                                   const OtlpLimits& limits, int64_t now_ms,
                                   const OtlpDecodeOptions& options) {
  ExportLogsServiceRequest request;
  if (Status s = otlp::ParseOtlpMessage(body, encoding, kOtlpMaxValueDepth, &request); !s.ok()) {
    return s;
  }
  size_t records = 0;
  for (const auto& resource_logs : request.resource_logs()) {
    for (const auto& scope_logs : resource_logs.scope_logs()) {
      records += static_cast<size_t>(scope_logs.log_records_size());
    }
  }
  if (records > limits.max_records) {
    return otlp::TooManyRecords(records, limits.max_records, "log records");
  }
  try {
    return Map(request, body.size(), records, limits, now_ms, options);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("mapping OTLP logs: ") + e.what());
  }
}

}  // namespace cistern
