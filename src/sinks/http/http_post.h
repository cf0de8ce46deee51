// HttpPoster: one HTTP(S) POST endpoint over libcurl, shared by the HTTP sinks (webhook, otlp;
// docs/delivery.md). It owns one curl easy handle for its lifetime, so a kept-alive connection
// is reused between posts and re-opened transparently when the peer closed it. Redirects are
// not followed (a POST body is not re-sent to wherever a 3xx points). Every Post() is bounded by
// the timeout (connect and whole transfer).
//
// Error messages name the sink, the URL without credentials or query, and the status line or
// the transport error, plus up to ~200 bytes of the response body, e.g.
//   "webhook http://host:8080/ingest: 503 Service Unavailable: {\"error\":\"overloaded\"}"
//   "otlp http://host:4318/v1/logs: Couldn't connect to server (Failed to connect ...)"
//
// Thread-safety: one thread at a time per HttpPoster (a sink's uploader thread).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cistern {

struct HttpPostOptions {
  std::string sink_name;  // names the sink in messages: "webhook", "otlp"
  std::string url;        // http:// or https://
  // Bounds the connect and the whole exchange of one Post(). Must be > 0.
  std::chrono::milliseconds timeout{10000};
  // Response body bytes kept in HttpPostResult::body (the rest is read and dropped).
  size_t max_response_bytes = 200;
};

struct HttpPostResult {
  bool transport_ok = false;  // false: no HTTP answer (refused, reset, DNS, TLS, timeout)
  long code = 0;              // the HTTP status when transport_ok
  std::string body;           // up to max_response_bytes of the response body
  std::string retry_after;    // the Retry-After header, if any
  // Not 2xx or no answer: "<sink> <url>: <status line or transport error>[: <body snippet>]".
  std::string error;
  bool ok() const { return transport_ok && code >= 200 && code < 300; }
};

class HttpPoster {
 public:
  virtual ~HttpPoster() = default;
  // POSTs `body` with `headers` ("Name: value" lines; "User-Agent: cistern" and an empty
  // "Expect:" are always sent).
  virtual HttpPostResult Post(std::string_view body, const std::vector<std::string>& headers) = 0;
  // scheme://host[:port]/path: what messages show.
  virtual const std::string& display_url() const = 0;
};

// Nothing is sent and no connection is opened until the first Post(). InvalidArgument when the
// URL is not a valid http:// or https:// URL with a host, or the timeout is not positive;
// Internal when libcurl cannot be initialised.
Result<std::unique_ptr<HttpPoster>> MakeHttpPoster(const HttpPostOptions& options);

// Compresses `in` as one gzip member (fastest level: edge devices are CPU-poor) into *out.
bool GzipInto(std::string_view in, std::string* out);

// Seconds of a Retry-After header given as delta-seconds ("3"); -1 when absent or an HTTP date.
int RetryAfterSeconds(std::string_view value);

}  // namespace cistern
