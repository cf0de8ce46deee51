// Router: HTTP request -> response, without sockets (Beast's handle_request, so it can be
// tested directly). Routes of docs/api.md:
//   POST /events   parse + validate the whole body, then store all or nothing
//   GET  /livez    200 while the process answers (liveness)
//   GET  /readyz   200/503: events would be stored now (readiness); /healthz is the same
//                  {ok, ready, store, backlog, backlog_ok, uploader, upstream_ok}: the sink's
//                  state is reported but never fails readiness
//   GET  /stats    counters
//   GET  /metrics  the same figures for Prometheus (text exposition 0.0.4)
//   GET  /         the status page (HTML that polls /stats)
//   POST /v1/logs, /v1/metrics  OTLP/HTTP ingest (ingest/otlp_routes.h, docs/otlp.md)
// Unknown paths answer 404, known paths with another method 405 (with Allow).
// Screen() runs on the header alone, before any body byte is read (docs/security.md): request
// framing (RFC 9112), Host, and the bearer token of the route.
//
// Thread-safety: Handle and Screen may be called concurrently from any io thread. SetOptions
// (a config reload) may be called from any thread: each request reads one snapshot of the
// options when it arrives, so a reload never changes the rules halfway through a request. `post`
// and `done` belong to the calling connection: `done` is always called through `post` (or inline,
// when the answer is ready at once), never concurrently for one request.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/component_status.h"
#include "common/config_reloads.h"
#include "common/log_limiter.h"
#include "ingest/http_counters.h"
#include "ingest/http_fwd.h"
#include "ingest/ingest_outcome.h"
#include "ingest/otlp_routes.h"
#include "ingest/router_options.h"
#include "store/store.h"

namespace cistern {
namespace mqtt {
struct MqttCounters;
}

// Logging (docs/api.md, "Logging"): at debug, one line per request saying what each layer
// decided (screen -> route -> parse -> store), formatted only when debug is on; every
// refusal (4xx/5xx) also feeds one info line per 10 s with the count and the latest reason
// (401s have their own warn line, rate-limited the same way).
class Router {
 public:
  using Post = std::function<void(std::function<void()>)>;
  using Done = std::function<void(Response&&)>;

  // `uploader` may be null (no uploader configured); it must outlive the router.
  Router(std::shared_ptr<Store> store, RouterOptions options,
         const ComponentStatus* uploader = nullptr);

  void Handle(Request&& req, const Post& post, Done done);

  // The verdict on a request whose header is in and whose body is not read yet: nullopt to go
  // on, or the answer to send before closing (Connection: close): 400 for framing a proxy
  // could read differently (a Transfer-Encoding not ending in chunked, Content-Length beside
  // Transfer-Encoding, no or several Host on HTTP/1.1), 403 for a Host not allowed, 401 for a
  // route whose token is missing or wrong. `chunked`: the parser's verdict on the framing.
  std::optional<Response> Screen(const Request& req, bool chunked);

  // Builds the error answer for failures caught before a request reached the router (e.g.
  // the session's body limit). Counts and logs it like any other refusal.
  Response Error(http::status status, std::string_view message, unsigned version, bool keep_alive);

  HttpCounters& counters() { return counters_; }
  ConfigReloads& config_reloads() { return config_reloads_; }

  // Replaces the options for requests that arrive from now on.
  void SetOptions(RouterOptions options);
  std::shared_ptr<const RouterOptions> options() const {
    auto live = live_.load();
    return {live, &live->router};  // shares the snapshot's ownership
  }
  // The MQTT listener's counters, shown in /stats and /metrics (docs/mqtt.md). Call before
  // the io threads run; `mqtt` must outlive the router.
  void set_mqtt(const mqtt::MqttCounters* mqtt) { mqtt_ = mqtt; }

 private:
  struct Trace;
  void PostEvents(Request&& req, const RouterOptions& options, const Post& post, Done done,
                  IngestOutcome* outcome);
  // The answer of a routed request is ready: latency, accepted events, log lines.
  void Finish(const Trace& trace, const Response& res);
  // Logs one refusal: at debug always, at info rate-limited (401s excepted: auth_log_'s).
  void LogRefusal(std::string_view request, unsigned code, std::string_view decisions);
  // An error answer {"error": message}, counted; logging is the caller's.
  Response Fail(http::status status, std::string_view message, unsigned version, bool keep_alive);
  enum class Probe { kLive, kReady };
  Response Healthz(const Request& req, Probe probe);
  Response Stats(const Request& req);
  Response StatusPage(const Request& req);
  Response Metrics(const Request& req);
  Response Reply(http::status status, std::string_view content_type, std::string body,
                 unsigned version, bool keep_alive);
  Response Json(http::status status, std::string body, unsigned version, bool keep_alive);
  Response StatusError(const Status& s, int64_t index, unsigned version, bool keep_alive,
                       int retry_after_seconds);
  void Count(http::status status);

  const std::shared_ptr<Store> store_;
  // The options in effect, and the OTLP routes' part of them made once from them: one snapshot,
  // so a request never sees the two from different reloads. Replaced whole by SetOptions.
  struct LiveOptions {
    RouterOptions router;
    OtlpRouteOptions otlp;
  };
  std::atomic<std::shared_ptr<const LiveOptions>> live_;
  const ComponentStatus* const uploader_;
  // 401 answer, or nullopt when `tokens` is empty or the request carries one of them.
  // Failures are logged, rate-limited (one line per 10 s with the count).
  std::optional<Response> Unauthorized(const Request& req, const std::vector<std::string>& tokens);
  // The tokens guarding `path` (nullptr: an open route).
  static const std::vector<std::string>* TokensFor(const RouterOptions& options,
                                                   std::string_view path);
  LogLimiter auth_log_, refusal_log_;

  HttpCounters counters_;
  ConfigReloads config_reloads_;
  const mqtt::MqttCounters* mqtt_ = nullptr;
  const OtlpRoutes otlp_;
};

}  // namespace cistern
