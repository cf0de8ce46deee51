// OtlpSink: ships each batch as OTLP/HTTP export requests to an OpenTelemetry receiver
// (a Collector, a vendor, another Cistern; docs/otlp.md, "Export").
//
// Requests: the batch is encoded by EncodeOtlpExport (event/otlp/encode.h): events that came in
// as OTLP go out as the records they were (grouped by resource and scope), any other event as a
// LogRecord carrying cistern.node_id + cistern.event_id for de-duplication. Log records are
// POSTed to <url>/v1/logs, data points to <url>/v1/metrics (logs first), with
//   Content-Type: application/x-protobuf | application/json   (options.encoding)
//   Content-Encoding: gzip                                    when options.gzip
//   the options.headers lines, User-Agent: cistern
//
// Outcome (OTLP spec, "OTLP/HTTP Throttling" and "Failures"):
//   2xx                                     -> kOk; a partial_success with rejected records
//                                              is logged with a running total, not retried
//                                              (the receiver will not take them as they are)
//   429, 502, 503, 504, other 5xx, 408,
//   any transport error                     -> kRetry, with the Retry-After delay if given
//   any other 4xx                           -> kPermanent
// When the logs request succeeded and the metrics request then failed, the whole batch is
// retried: its log records go again (at-least-once, like every sink).
//
// Thread-safety: used by one thread at a time (the uploader's); Send() never runs concurrently.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "event/otlp/otlp_types.h"
#include "sinks/api/sink.h"

namespace cistern {

struct OtlpSinkOptions {
  // Base URL, e.g. http://collector:4318; a trailing '/' is dropped, then /v1/logs and
  // /v1/metrics are appended.
  std::string url;
  OtlpEncoding encoding = OtlpEncoding::kProtobuf;
  bool gzip = false;
  std::vector<std::string> headers;  // "Name: value"
  std::chrono::milliseconds timeout{10000};
};

// Nothing is sent until the first Send(). InvalidArgument for a bad URL, header line or
// timeout; Internal when libcurl cannot be initialised.
Result<std::unique_ptr<Sink>> MakeOtlpSink(const OtlpSinkOptions& options);

}  // namespace cistern
