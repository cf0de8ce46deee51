// DecodeOtlpMetrics (decode.h): one event per data point. The five point types are handled
// alike through reflection: each Metric's `data` oneof holds a message whose `data_points`
// field lists points that all carry `time_unix_nano` (OTLP metrics.proto).
#include <google/protobuf/reflection.h>

#include <exception>

#include "cistern/otlp/metrics_service.pb.h"
#include "event/otlp/decode.h"
#include "event/otlp/decode_common.h"
#include "event/otlp/message_io.h"
#include "event/otlp/otlp_json.h"
#include "event/otlp/payload.h"

namespace cistern {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;
using opentelemetry::proto::metrics::v1::Metric;

// The message in Metric's `data` oneof (Gauge, Sum, ...), or null when none is set.
const Message* DataOf(const Metric& metric) {
  const auto* oneof = Metric::descriptor()->FindOneofByName("data");
  const FieldDescriptor* field = metric.GetReflection()->GetOneofFieldDescriptor(metric, oneof);
  return field == nullptr ? nullptr : &metric.GetReflection()->GetMessage(metric, field);
}

Message* MutableDataOf(Metric* metric) {
  const auto* oneof = Metric::descriptor()->FindOneofByName("data");
  const FieldDescriptor* field = metric->GetReflection()->GetOneofFieldDescriptor(*metric, oneof);
  return field == nullptr ? nullptr : metric->GetReflection()->MutableMessage(metric, field);
}

const FieldDescriptor* PointsField(const Message& data) {
  return data.GetDescriptor()->FindFieldByName("data_points");
}

int PointCount(const Metric& metric) {
  const Message* data = DataOf(metric);
  return data == nullptr ? 0 : data->GetReflection()->FieldSize(*data, PointsField(*data));
}

int64_t TimestampOf(const Message& point, int64_t now_ms) {
  const FieldDescriptor* time = point.GetDescriptor()->FindFieldByName("time_unix_nano");
  int64_t ms = otlp::NanosToMs(point.GetReflection()->GetUInt64(point, time));
  return ms > 0 ? ms : now_ms;
}

std::string KindOf(const Metric& metric, size_t max_field_bytes) {
  std::string kind = otlp::FieldText(metric.name(), max_field_bytes);
  return kind.empty() ? "metric" : kind;
}

Result<OtlpDecoded> Map(const ExportMetricsServiceRequest& request, size_t body_bytes,
                        size_t points, const OtlpLimits& limits, int64_t now_ms,
                        const OtlpDecodeOptions& options) {
  OtlpDecoded out;
  out.events.Reserve(points, body_bytes * 2);
  otlp::EventCollector collector(limits, &out);
  std::string prefix, payload;
  for (const auto& resource_metrics : request.resource_metrics()) {
    const auto* resource = resource_metrics.has_resource() ? &resource_metrics.resource() : nullptr;
    std::string device_id = otlp::DeviceIdOf(resource, options, limits.max_field_bytes);
    for (const auto& scope_metrics : resource_metrics.scope_metrics()) {
      const auto* scope = scope_metrics.has_scope() ? &scope_metrics.scope() : nullptr;
      otlp::PayloadPrefix(otlp::Signal::kMetric, resource, resource_metrics.schema_url(), scope,
                          scope_metrics.schema_url(), &prefix);
      for (const Metric& metric : scope_metrics.metrics()) {
        const Message* data = DataOf(metric);
        if (data == nullptr) continue;  // no points, nothing to store
        std::string kind = KindOf(metric, limits.max_field_bytes);
        // The metric as it is, less its points: one point at a time is added back below.
        Metric single = metric;
        Message* single_data = MutableDataOf(&single);
        const FieldDescriptor* points = PointsField(*data);
        single_data->GetReflection()->ClearField(single_data, points);
        Message* slot = single_data->GetReflection()->AddMessage(single_data, points);
        int n = data->GetReflection()->FieldSize(*data, points);
        for (int i = 0; i < n; ++i) {
          const Message& point = data->GetReflection()->GetRepeatedMessage(*data, points, i);
          slot->CopyFrom(point);
          payload = prefix;
          otlp::AppendOtlpJson(single, &payload);
          payload += '}';
          collector.Add(device_id, kind, TimestampOf(point, now_ms), payload);
        }
      }
    }
  }
  return out;
}

}  // namespace

Result<OtlpDecoded> DecodeOtlpMetrics(std::string_view body, OtlpEncoding encoding,
                                      const OtlpLimits& limits, int64_t now_ms,
                                      const OtlpDecodeOptions& options) {
  ExportMetricsServiceRequest request;
  if (Status s = otlp::ParseOtlpMessage(body, encoding, kOtlpMaxValueDepth, &request); !s.ok()) {
    return s;
  }
  size_t points = 0;
  for (const auto& resource_metrics : request.resource_metrics()) {
    for (const auto& scope_metrics : resource_metrics.scope_metrics()) {
      for (const Metric& metric : scope_metrics.metrics()) {
        points += static_cast<size_t>(PointCount(metric));
      }
    }
  }
  if (points > limits.max_records) {
    return otlp::TooManyRecords(points, limits.max_records, "data points");
  }
  try {
    return Map(request, body.size(), points, limits, now_ms, options);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("mapping OTLP metrics: ") + e.what());
  }
}

}  // namespace cistern
