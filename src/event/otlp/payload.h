// The payload of an event decoded from OTLP: one record with its resource and scope, in OTLP/JSON
// under a small envelope (docs/otlp.md, "Payload"):
//   {"otlp":"log","resource":{…},"resourceSchemaUrl":"…","scope":{…},"scopeSchemaUrl":"…",
//    "record":{LogRecord}}
//   {"otlp":"metric", …the same…, "metric":{Metric with exactly one data point}}
// "resource"/"scope" are absent when the request did not set them, the schema URLs when empty.
// Internal to the OTLP codec. Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "cistern/otlp/logs.pb.h"
#include "cistern/otlp/metrics.pb.h"
#include "common/status.h"

namespace cistern::otlp {

enum class Signal { kLog, kMetric };

// The envelope's text up to the record: `{"otlp":"log",…,"record":` (`"metric":` for metrics).
// A payload is this prefix + the record's OTLP/JSON + "}". resource/scope may be null (absent).
void PayloadPrefix(Signal signal, const opentelemetry::proto::resource::v1::Resource* resource,
                   std::string_view resource_schema_url,
                   const opentelemetry::proto::common::v1::InstrumentationScope* scope,
                   std::string_view scope_schema_url, std::string* out);

// A stored payload taken apart again.
struct StoredOtlp {
  Signal signal = Signal::kLog;
  bool has_resource = false;
  opentelemetry::proto::resource::v1::Resource resource;
  std::string resource_schema_url;
  bool has_scope = false;
  opentelemetry::proto::common::v1::InstrumentationScope scope;
  std::string scope_schema_url;
  opentelemetry::proto::logs::v1::LogRecord record;  // signal == kLog
  opentelemetry::proto::metrics::v1::Metric metric;  // signal == kMetric
};

// True, with *out filled, when payload_json is such an envelope and every part parses as
// OTLP/JSON; false for any other payload (a native Cistern event, or a damaged one).
bool ParseStoredOtlp(std::string_view payload_json, StoredOtlp* out);

}  // namespace cistern::otlp
