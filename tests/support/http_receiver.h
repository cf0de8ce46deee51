// HttpReceiver: a real HTTP/1.1 server on 127.0.0.1 for tests that ship data upstream (the
// webhook sink, the uploader's end-to-end and outage tests). Boost.Beast, asynchronous, on its
// own io threads.
//
// What it does:
//  - Accepts any number of concurrent connections and serves each with HTTP/1.1 keep-alive
//    (requests on one connection are answered in order; idle connections are closed after
//    options.idle_timeout).
//  - Records every request it reads completely (any method; the sinks send POST): method,
//    target, headers with lower-cased names, and the body, gunzipped when the request says
//    Content-Encoding: gzip. A gzip body that does not decode is recorded with the raw bytes
//    and decode_error set, and answered 400 without asking the responder.
//  - Answers each request with the status the responder returns (default: always 200), then
//    records it with that status (so WaitForCount(n) means n requests were decided; a test can
//    count only the accepted ones). The responder runs on an io thread; keep it quick (a sleep
//    in it holds up one io thread; it must not call Start()/Stop()). An exception thrown by
//    it is answered 500.
//    The answer's body is SetResponseBody()'s text, or "<code> <reason>" when that is empty
//    (none for 204/304).
//  - Stop() closes the listening socket and every open connection at once (clients see the
//    connection reset or closed, then "connection refused"), so a test can simulate an outage;
//    Start(port) later listens again on the same port (SO_REUSEADDR) and keeps the recorded
//    requests and settings.
//
// Thread-safety: every public member may be called from any thread, concurrently with the
// io threads. Start() and Stop() must not be called concurrently with each other, nor from the
// responder.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace cistern::testing {

// One request as the receiver read it.
struct Received {
  std::string method;                          // "POST"
  std::string target;                          // "/ingest?x=1"
  std::map<std::string, std::string> headers;  // lower-case names; last one wins if repeated
  std::string body;                            // decoded (gunzipped) body
  size_t wire_bytes = 0;                       // body size as sent (compressed size for gzip)
  bool decode_error = false;                   // Content-Encoding: gzip that did not decode
  uint64_t connection = 0;                     // which connection it came on (1, 2, ...)
  int status = 0;  // what the receiver answered (0 while the responder is deciding)

  // The value of header `lower_name`, or "" when absent.
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

struct HttpReceiverOptions {
  int threads = 2;                                // io threads
  size_t body_limit = size_t{256} << 20;          // larger bodies: connection dropped
  std::chrono::milliseconds idle_timeout{30000};  // per read and write
  bool keep_bodies = true;  // false: record method/target/headers only (big benchmarks)
};

class HttpReceiver {
 public:
  // Decides the status of each answer. Called on an io thread, possibly concurrently.
  using Responder = std::function<int(const Received&)>;

  // Constructs a stopped receiver; call Start().
  explicit HttpReceiver(HttpReceiverOptions options = {});
  // Stops it (see Stop()).
  ~HttpReceiver();
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  // Listens on 127.0.0.1:`port` (0 = a free port chosen by the kernel) and starts the io
  // threads. Returns Unavailable when the port cannot be bound, Internal when already running.
  Status Start(uint16_t port = 0);
  // Closes the listener and all connections, drops unsent answers and joins the io threads.
  // Idempotent. Recorded requests stay.
  void Stop();
  // An outage that keeps the port: Stop(), then hold the port with a bound socket that does
  // not listen, so clients get "connection refused" and no other process can take the port
  // meanwhile (any bind(port 0) elsewhere could, after a plain Stop()). Start(port()) ends it.
  void GoDown();
  bool running() const;

  // The port of the last successful Start() (stays valid after Stop(), for a restart).
  uint16_t port() const;
  // "http://127.0.0.1:<port><target>"
  std::string Url(const std::string& target = "/") const;

  // Replaces the responder; nullptr restores "always 200". Takes effect for the next request.
  void SetResponder(Responder responder);
  // Shorthand: answer every request with `status`.
  void SetStatus(int status);
  // The body of every answer ("" = "<code> <reason>").
  void SetResponseBody(std::string body);

  // A copy of everything recorded so far, in the order the requests were read.
  std::vector<Received> Requests() const;
  size_t Count() const;
  // Waits until at least `n` requests are recorded; false on timeout.
  bool WaitForCount(size_t n, std::chrono::milliseconds timeout) const;
  // Connections accepted since construction (keep-alive check: many requests, one connection).
  uint64_t Connections() const;
  // Forgets the recorded requests (not the connection count).
  void Clear();

  struct Impl;  // public so the .cc's session type can name it

 private:
  std::unique_ptr<Impl> impl_;
};

// The "id" of every event in the JSON-array bodies (the webhook sink's BatchJson) of the
// requests `receiver` answered 200, in arrival order, re-ships included. A body that is not
// such an array fails the calling test (gtest ADD_FAILURE) and is skipped.
std::vector<int64_t> AcceptedEventIds(const HttpReceiver& receiver);

}  // namespace cistern::testing
