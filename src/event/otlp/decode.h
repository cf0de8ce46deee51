// OTLP/HTTP export requests (POST /v1/logs, POST /v1/metrics) -> validated Cistern events.
// Pure: no I/O, no clock (the caller passes now_ms), no shared state; safe to call from any
// number of threads at once. Never throws. Mapping and payload shape: docs/otlp.md.
//
//  - One event per LogRecord / per metric data point, in request order.
//  - device_id: the first of options.device_id_attributes present in the resource's attributes
//    (a non-empty string, or an integer in decimal); else options.fallback_device_id.
//  - kind: logs: event_name, else severity_text, else "log"; metrics: the metric's name, else
//    "metric". device_id and kind are made valid Cistern fields: control characters become
//    '_', and they are cut to limits.max_field_bytes on a UTF-8 boundary (the payload keeps the
//    original text).
//  - ts (unix ms): logs: time_unix_nano, else observed_time_unix_nano, else now_ms; metrics:
//    the point's time_unix_nano, else now_ms. A time under 1 ms counts as absent.
//  - payload: the record with its resource and scope in OTLP/JSON (payload.h).
//
// Whole-request errors (the Result holds a Status; nothing is returned partially):
//  - InvalidArgument (-> 400): undecodable protobuf (truncated, wrong wire type, invalid UTF-8,
//    nested over kOtlpMaxMessageDepth), invalid JSON or OTLP/JSON (bad UTF-8, a field of the
//    wrong type, an id that is not hex), AnyValue nesting over kOtlpMaxValueDepth.
//  - TooLarge (-> 413): more than limits.max_records records / data points.
// Per-record rejection (the rest of the request is kept): a payload over
// limits.max_payload_bytes; such records are listed in OtlpDecoded::rejected, for
// partial_success and a dead-letter table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "event/event.h"
#include "event/otlp/otlp_types.h"

namespace cistern {

struct OtlpLimits {
  size_t max_records = 10'000;           // per request; more -> TooLarge
  size_t max_payload_bytes = 64 * 1024;  // one event's payload; larger -> that record rejected
  size_t max_field_bytes = 256;          // device_id and kind are cut to this length
};

struct OtlpDecodeOptions {
  // Resource attributes tried in order for device_id.
  std::vector<std::string> device_id_attributes = {"device.id", "host.name", "service.instance.id",
                                                   "service.name"};
  // device_id when none of them is present ("unknown" if this is empty).
  std::string fallback_device_id = "unknown";
};

// A record that was not stored, with everything a dead-letter table needs.
struct OtlpRejected {
  size_t index = 0;  // the record's position among the request's records (0-based, request order)
  std::string reason;
  std::string device_id;
  std::string kind;
  int64_t ts = 0;
  std::string payload_json;  // the payload the event would have had
};

struct OtlpDecoded {
  EventBatch events;                   // may be empty: an empty request is valid OTLP
  std::vector<OtlpRejected> rejected;  // partial_success.rejected_* = rejected.size()
};

// Decodes an ExportLogsServiceRequest body.
Result<OtlpDecoded> DecodeOtlpLogs(std::string_view body, OtlpEncoding encoding,
                                   const OtlpLimits& limits, int64_t now_ms,
                                   const OtlpDecodeOptions& options = {});

// Decodes an ExportMetricsServiceRequest body.
Result<OtlpDecoded> DecodeOtlpMetrics(std::string_view body, OtlpEncoding encoding,
                                      const OtlpLimits& limits, int64_t now_ms,
                                      const OtlpDecodeOptions& options = {});

// partial_success.error_message for `rejected` (empty when nothing was rejected), e.g.
// "2 log records rejected; first: record 3: payload is 70001 bytes, over the limit of 65536".
std::string OtlpRejectedMessage(const std::vector<OtlpRejected>& rejected, std::string_view noun);

}  // namespace cistern
