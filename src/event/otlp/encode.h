// Stored events -> OTLP/HTTP export request bodies, for an OTLP sink. Pure: no I/O, no shared
// state; safe to call from any number of threads at once. Never throws. docs/otlp.md, "Export".
//
//  - An event whose payload is an OTLP envelope (payload.h: it came in through
//    DecodeOtlpLogs/DecodeOtlpMetrics) goes out as the record it was: log records in an
//    ExportLogsServiceRequest, data points in an ExportMetricsServiceRequest. Records with an
//    identical resource (+ schema URL) share one ResourceLogs/ResourceMetrics, identical scopes
//    within it one ScopeLogs/ScopeMetrics, identical metrics (everything but the points) one
//    Metric; groups keep the order of their first event, records the order of the events.
//  - Any other event becomes a LogRecord: resource {device.id}, scope "cistern",
//    event_name = kind, time and observed time = ts, body = the payload as an AnyValue (JSON
//    object -> kvlistValue, ...; a payload nested deeper than kOtlpMaxValueDepth, or not JSON,
//    as a stringValue; no payload, no body), attributes cistern.device_id, cistern.kind,
//    cistern.node_id and cistern.event_id (the de-duplication key with node_id).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "event/otlp/otlp_types.h"

namespace cistern {

// One stored event, as the uploader reads it (views must outlive the call).
struct OtlpStoredEvent {
  int64_t id = 0;
  std::string_view device_id;
  std::string_view kind;
  std::string_view payload_json;  // meaningful only when has_payload
  bool has_payload = false;
  int64_t ts = 0;  // unix ms
};

struct OtlpEncodeOptions {
  // Also add cistern.event_id and cistern.node_id to log records that came in as OTLP (off:
  // they go out exactly as they came). Data points are never tagged: attributes identify a
  // metric's time series.
  bool tag_otlp_log_records = false;
};

struct OtlpExport {
  std::string logs_body;  // an ExportLogsServiceRequest; empty when log_records == 0
  size_t log_records = 0;
  std::string metrics_body;  // an ExportMetricsServiceRequest; empty when data_points == 0
  size_t data_points = 0;
};

// Builds the request bodies for `events` in the given encoding. Errors: Internal only where
// libprotobuf cannot serialize (e.g. a request over 2 GiB).
Result<OtlpExport> EncodeOtlpExport(std::span<const OtlpStoredEvent> events,
                                    std::string_view node_id, OtlpEncoding encoding,
                                    const OtlpEncodeOptions& options = {});

}  // namespace cistern
