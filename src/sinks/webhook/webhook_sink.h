// WebhookSink: ships each batch as one HTTP POST (libcurl) to an upstream webhook
// (docs/delivery.md).
//
// Request: POST <url> with the body BatchJson(batch) (a JSON array of events in id order, each
// {"id","node_id","device_id","kind","payload","ts"}) and the headers
//   Content-Type: application/json
//   Content-Encoding: gzip          when options.gzip (zlib, gzip wrapper)
//   Authorization: <value>          when options.authorization is not empty
//   Idempotency-Key: BatchKey(batch) the same every time the same batch is re-shipped, so the
//                                   receiver can de-duplicate at-least-once delivery
//   User-Agent: cistern
// Redirects are not followed (a POST body is not re-sent to wherever a 3xx points).
//
// Outcome (Fluent Bit's out_http mapping):
//   2xx                                   -> kOk
//   408, 429, 5xx, 1xx/3xx, any transport
//   error (refused, reset, DNS, TLS, timeout) -> kRetry
//   any other 4xx                         -> kPermanent (upstream will not take this batch)
// Error messages name the sink, the URL without credentials or query, and the status line or
// the transport error, plus up to ~200 bytes of the response body, e.g.
//   "webhook http://host:8080/ingest: 503 Service Unavailable: {\"error\":\"overloaded\"}"
//   "webhook http://host:8080/ingest: Couldn't connect to server (Failed to connect ...)"
//
// Time: every Send() is bounded by options.timeout (connect and whole transfer).
// Connections: the sink owns one curl easy handle for its lifetime, so a kept-alive
// connection is reused between batches and re-opened transparently when the peer closed it.
//
// Thread-safety: a WebhookSink is used by one thread at a time (the uploader's); Send() is never
// called concurrently. Different sinks are independent.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "sinks/api/sink.h"

namespace cistern {

struct WebhookOptions {
  std::string url;  // http:// or https://
  bool gzip = false;
  // Bounds the connect and the whole exchange of one Send(). Must be > 0.
  std::chrono::milliseconds timeout{10000};
  // The full Authorization header value, e.g. "Bearer abc"; empty = no header.
  std::string authorization;
};

// Creates a webhook sink. Nothing is sent and no connection is opened until the first Send().
// Returns InvalidArgument when the URL is not a valid http:// or https:// URL with a host, or
// the timeout is not positive; Internal when libcurl cannot be initialised.
Result<std::unique_ptr<Sink>> MakeWebhookSink(const WebhookOptions& options);

}  // namespace cistern
