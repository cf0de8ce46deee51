// The async half of the HTTP load: `workers` producers, each a loop of
// POST /events -> read answer on its own keep-alive connection (plain or TLS, with a bearer
// token when set), all on one Asio event loop
// run by the calling thread (an async client, not a thread per worker, so the load generator
// is not the bottleneck).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tools/loadgen/http_conn.h"
#include "tools/loadgen/http_histogram.h"

namespace cistern::loadgen {

using LoadClock = std::chrono::steady_clock;

struct LoadSetup {
  HttpConn conn;    // the target, TLS, tokens
  int workers = 1;  // REQUIRES >= 1
  int devices = 1;  // REQUIRES >= 1
  int batch = 1;    // REQUIRES >= 1
  // POST /v1/logs with protobuf OTLP requests of `batch` log records (otlp_body.h) instead of
  // /events; the 200s carry no ids.
  bool otlp = false;
  double rate = 0;  // total requests/s over all workers (503 resends included); 0 = no cap
  std::chrono::milliseconds duration{1000};
  // Bound on connect, and on one request from the first byte written to the last read.
  std::chrono::milliseconds request_timeout{10'000};
  // Pause before reconnecting after a transport error (a dead server is not spun on).
  std::chrono::milliseconds reconnect_pause{100};
};

// What the workers of one run add up.
struct LoadTotals {
  int64_t requests_ok = 0;      // 200 with a well-formed acknowledgement
  int64_t events_accepted = 0;  // events acknowledged by those 200s
  int64_t backpressure = 0;     // 503 answers; each request is resent after Retry-After
  // Requests still waiting out a 503 when the time was up: never resent, nothing stored,
  // not a drop (the server refused them explicitly).
  int64_t abandoned_after_503 = 0;
  int64_t failures = 0;       // anything but 200/503, a bad acknowledgement, a transport error
  int64_t failed_events = 0;  // events in those requests
  // failures by reason: the status code ("500"), "transport", "connect" or "bad ack"
  std::map<std::string, int64_t> failures_by_reason;
  std::vector<std::string> first_errors;  // the first few distinct failures, with details
  FineHistogram latency;                  // per 200: request written .. answer fully read
  std::vector<int64_t> ids;               // every acknowledged id, in arrival order
  double elapsed_s = 0;                   // start .. the last worker finished
};

// Runs the load and returns when every worker has finished: no worker starts a request
// after `duration`; requests in flight then complete (bounded by request_timeout).
// `on_tick`, when set, is called about every 250 ms on the calling thread with the totals
// so far and the seconds elapsed (for a progress line).
// Blocks the calling thread, which runs the event loop; independent calls share nothing.
LoadTotals RunWorkers(const LoadSetup& setup,
                      const std::function<void(const LoadTotals&, double elapsed_s)>& on_tick);

}  // namespace cistern::loadgen
