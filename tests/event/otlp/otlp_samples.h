// Sample OTLP requests and helpers shared by the OTLP codec tests (tests/event/otlp/).
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "cistern/otlp/logs_service.pb.h"
#include "cistern/otlp/metrics_service.pb.h"
#include "event/event.h"
#include "event/otlp/otlp_types.h"

namespace cistern::otlp_test {

using opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;
using opentelemetry::proto::common::v1::AnyValue;
using opentelemetry::proto::common::v1::KeyValue;
using opentelemetry::proto::logs::v1::LogRecord;
using opentelemetry::proto::metrics::v1::Metric;

inline constexpr int64_t kNowMs = 1'750'000'000'000;
inline constexpr uint64_t kTimeNanos = 1'700'000'000'123'456'789ULL;  // -> 1'700'000'000'123 ms

// Adds a string attribute.
KeyValue* AddAttribute(google::protobuf::RepeatedPtrField<KeyValue>* attributes,
                       const std::string& key, const std::string& value);

// An AnyValue kvlist nested `depth` levels deep (depth 1: a string).
AnyValue NestedValue(int depth);

// Two resources (one with device.id, one with no resource at all), three scopes (one without an
// InstrumentationScope), five records using every LogRecord field between them.
ExportLogsServiceRequest SampleLogs();

// One metric of every type (gauge, sum, histogram, exponential histogram, summary), with
// exemplars, optional fields and metadata; 9 data points in all.
ExportMetricsServiceRequest SampleMetrics();
inline constexpr size_t kSampleMetricPoints = 9;

// A message as a body of the given encoding (SerializeOtlpMessage; fails the test on error).
std::string Body(const google::protobuf::Message& message, OtlpEncoding encoding);

// A parsed payload (keeps its own padded copy).
struct ParsedJson {
  explicit ParsedJson(std::string_view text);
  simdjson::padded_string text;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  bool ok = false;
};

}  // namespace cistern::otlp_test
