// OTLP/HTTP ingest: POST /v1/logs and POST /v1/metrics (docs/otlp.md, "Ingest"). The Router
// dispatches here after its own method and bearer-token checks, so TLS, auth and the body
// limit are the listener's.
//
// One request:
//  - Content-Type application/x-protobuf or application/json (parameters such as charset are
//    ignored); anything else -> 415. Content-Encoding gzip (bounded by max_body_bytes once
//    decompressed: larger -> 413) or identity; anything else -> 415.
//  - The codec (event/otlp/decode.h) maps it to events: undecodable -> 400, too many records
//    -> 413, nothing stored.
//  - Records that cannot be stored (payload over the limit) go to the dead-letter table in the
//    same transaction as the others' events, and are reported in partial_success.
//  - The answer comes after the COMMIT: 200 with an Export*ServiceResponse in the request's
//    encoding. Backpressure and transient store errors (buffer full, busy, disk full, I/O
//    error, shutting down) -> 503 with Retry-After: OTLP clients retry only 429/502/503/504.
// Error bodies are a google.rpc.Status (code + message) in the request's encoding when that is
// known, else JSON.
//
// Thread-safety: Handle may be called concurrently from any io thread; `done` is called once,
// through `post` (or inline when the answer is ready at once). Counting, timing and logging
// are the caller's (from `outcome`).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "event/otlp/decode.h"
#include "ingest/http_fwd.h"
#include "ingest/ingest_outcome.h"
#include "store/store.h"

namespace cistern {

enum class OtlpSignal { kLogs, kMetrics };

struct OtlpRouteOptions {
  size_t max_body_bytes = 1 << 20;  // also bounds a gzip body once decompressed
  OtlpLimits limits;                // records per request, payload and field sizes
  OtlpDecodeOptions decode;         // device_id attributes (--otlp-device-attrs)
  int retry_after_seconds = 1;
};

class OtlpRoutes {
 public:
  using Post = std::function<void(std::function<void()>)>;
  using Done = std::function<void(Response&&)>;

  explicit OtlpRoutes(std::shared_ptr<Store> store);

  // `options` are the ones in effect for this request (the router's, which a reload
  // replaces); they are read before Handle returns. `outcome` records what parse and store
  // decided; it must stay valid until `done` ran.
  void Handle(OtlpSignal signal, const OtlpRouteOptions& options, Request&& req, const Post& post,
              Done done, IngestOutcome* outcome) const;

 private:
  const std::shared_ptr<Store> store_;
};

// The path and its signal: "/v1/logs", "/v1/metrics"; false for anything else.
bool OtlpPath(std::string_view path, OtlpSignal* signal);

}  // namespace cistern
