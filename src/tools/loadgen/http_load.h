// HTTP load: the part of cistern-loadgen that proves "no acknowledged write is dropped"
// against a running collector (docs/architecture.md, tools).
//
// `workers` concurrent producers on keep-alive connections, driven by one Asio/Beast event
// loop (async client, not a thread per worker, so the load generator is not the
// bottleneck), for `duration`, over `devices` distinct device ids, `batch` events per
// request, optionally capped at `rate` requests/s in total. Events are realistic: temperature,
// humidity, a per-device sequence, a note with a quote in it, every 17th event kind=error.
//
// Outcomes: 200 (counted, every returned id recorded; "accepted" must equal the events
// sent), 503 (backpressure: the same body is resent after the server's Retry-After, capped
// at 5 s, 1 s when absent; not a drop; a request still waiting when the time is up is
// abandoned, which stores nothing), anything else or a transport error is a failure (a drop):
// counted by reason, the first few noted, the connection re-made, the load goes on.
// At the end it checks GET /stats (store.events_written grew by at least the accepted
// count), that no id was acknowledged twice, and, with `verify_db`, reads the SQLite file
// directly (read-only) and checks that every acknowledged id is a row of `events`.
//
// The report on `out` is one "name  value" line each: target, duration, requests ok, events
// accepted, events/s, requests/s, 503 backpressure, failures (with reasons and examples),
// latency ms p50/p90/p99/max (of the 200s, from the request's first byte written to the
// answer's last byte read, within 1%), stats check, db check; then a last line
// "OK: no writes dropped" or "FAIL: <n> writes dropped (500: <n>, transport: <m>); ...".
// `json_file` gets the same as one JSON object (events_accepted, failures, latency_ms.p99,
// stats_check, db_check, ok, summary, ...).
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace cistern::loadgen {

struct HttpLoadOptions {
  std::string target = "http://127.0.0.1:8080";  // http:// or https://, host, port
  // Bearer tokens (docs/security.md): `token` on the POSTs (--auth-token-file's), and
  // `admin_token` on GET /stats (--admin-token-file's; "" = the same as `token`).
  std::string token;
  std::string admin_token;
  // https: verify the collector's certificate against this PEM file ("" = the system CAs),
  // or not at all with `insecure` (testing only).
  std::string cacert;
  bool insecure = false;
  int workers = 64;
  std::chrono::milliseconds duration{10'000};
  int devices = 50;
  int batch = 1;          // events per request; 1 = single-event POSTs
  double rate = 0;        // total requests/s cap (503 resends included); 0 = no cap
  std::string verify_db;  // "" = skip the direct SQLite check
  // OTLP instead of /events: protobuf ExportLogsServiceRequests of `batch` log records to
  // POST /v1/logs (docs/otlp.md). Answers carry no ids, so verify_db cannot be used with it.
  bool otlp = false;
  // One updating status line on `err` ("\r" elapsed, events/s, 503s, failures) about every
  // 250 ms; meant for a TTY.
  bool progress = false;
  std::string json_file;  // "" = none; else write the report as JSON
};

// Runs the load and prints the report to `out` (usage errors and progress to `err`).
// Blocks the calling thread, which runs the event loop (one thread for all workers);
// independent calls share nothing.
// Returns the process exit code: 0 when nothing was dropped and every check passed,
// 1 when any write was dropped or a check failed (the report names the counts),
// 2 when the options are unusable (bad target or values, an unreadable --cacert, target
// unreachable or not a collector at start: GET /stats must answer 200 with
// store.events_written, and `json_file` must be writable), with one line on `err`.
int RunHttpLoad(const HttpLoadOptions& options, std::ostream& out, std::ostream& err);

}  // namespace cistern::loadgen
