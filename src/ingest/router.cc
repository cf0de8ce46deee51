#include "ingest/router.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/beast/core/string.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string_view>

#include "common/clock.h"
#include "common/json_writer.h"
#include "common/secrets.h"
#include "common/utf8.h"
#include "event/gzip.h"
#include "event/parse.h"
#include "ingest/health.h"
#include "ingest/http_status.h"
#include "ingest/http_types.h"
#include "ingest/metrics.h"
#include "ingest/stats_json.h"
#include "ingest/status_page.h"

namespace cistern {
namespace {

namespace beast = boost::beast;

// The path without its query string.
std::string_view Path(const Request& req) {
  std::string_view target(req.target().data(), req.target().size());
  return target.substr(0, target.find('?'));
}

// "POST /events" for the log: the path only (a query string may carry secrets), valid UTF-8,
// at most 64 bytes of it.
std::string RequestLine(std::string_view method, std::string_view path) {
  return std::string(method) + " " + ValidUtf8(std::string(path.substr(0, 64)));
}
std::string RequestLine(const Request& req) {
  return RequestLine(std::string(req.method_string()), Path(req));
}

}  // namespace

namespace {
OtlpRouteOptions OtlpOptions(const RouterOptions& o) {
  OtlpRouteOptions out;
  out.max_body_bytes = o.max_body_bytes;
  out.limits.max_records = o.parse.max_events;
  out.limits.max_payload_bytes = o.parse.max_payload_bytes;
  out.limits.max_field_bytes = o.parse.max_field_bytes;
  out.decode = o.otlp_decode;
  out.retry_after_seconds = o.retry_after_seconds;
  return out;
}
}  // namespace

Router::Router(std::shared_ptr<Store> store, RouterOptions options, const ComponentStatus* uploader)
    : store_(std::move(store)),
      live_(std::make_shared<const LiveOptions>(LiveOptions{options, OtlpOptions(options)})),
      uploader_(uploader),
      otlp_(store_) {}

void Router::SetOptions(RouterOptions options) {
  OtlpRouteOptions otlp = OtlpOptions(options);
  live_.store(
      std::make_shared<const LiveOptions>(LiveOptions{std::move(options), std::move(otlp)}));
}

void Router::Count(http::status status) { counters_.Count(static_cast<unsigned>(status)); }

Response Router::Reply(http::status status, std::string_view content_type, std::string body,
                       unsigned version, bool keep_alive) {
  Count(status);
  Response res{status, version};
  res.set(http::field::server, "cistern");
  res.set(http::field::content_type, content_type);
  res.set("X-Content-Type-Options", "nosniff");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response Router::Json(http::status status, std::string body, unsigned version, bool keep_alive) {
  body += '\n';
  return Reply(status, "application/json", std::move(body), version, keep_alive);
}

Response Router::Error(http::status status, std::string_view message, unsigned version,
                       bool keep_alive) {
  LogRefusal("request", static_cast<unsigned>(status), fmt::format("read refused: {}", message));
  return Fail(status, message, version, keep_alive);
}

Response Router::Fail(http::status status, std::string_view message, unsigned version,
                      bool keep_alive) {
  JsonWriter w;
  w.BeginObject();
  w.Key("error");
  w.String(message);
  w.EndObject();
  return Json(status, w.Take(), version, keep_alive);
}

Response Router::StatusError(const Status& s, int64_t index, unsigned version, bool keep_alive,
                             int retry_after_seconds) {
  JsonWriter w;
  w.BeginObject();
  w.Key("error");
  w.String(s.message());
  if (index >= 0) {
    w.Key("index");
    w.Int(index);
  }
  if (s.code() == Status::Code::kBufferFull) {
    w.Key("backlog");
    w.Int(store_->backlog());
  }
  w.EndObject();
  Response res = Json(HttpStatusOf(s), w.Take(), version, keep_alive);
  // After Count(503), so that a scrape never sees more "buffer full" than 503s.
  if (s.code() == Status::Code::kBufferFull) counters_.rejected_buffer_full.fetch_add(1);
  if (res.result() == http::status::service_unavailable) {
    res.set(http::field::retry_after, std::to_string(retry_after_seconds));
  }
  return res;
}

const std::vector<std::string>* Router::TokensFor(const RouterOptions& options,
                                                  std::string_view path) {
  if (path == "/events" || path == "/v1/logs" || path == "/v1/metrics") {
    return &options.ingest_tokens;
  }
  if (path == "/stats" || path == "/metrics") return &options.admin_tokens;
  return nullptr;
}

std::optional<Response> Router::Screen(const Request& req, bool chunked) {
  const std::shared_ptr<const LiveOptions> live = live_.load();
  const RouterOptions* options = &live->router;
  auto refuse = [&](http::status status, std::string_view message) {
    counters_.requests.fetch_add(1, std::memory_order_relaxed);
    LogRefusal(RequestLine(req), static_cast<unsigned>(status),
               fmt::format("screen refused: {}", message));
    return std::optional<Response>(Fail(status, message, req.version(), false));
  };
  // RFC 9112 6.3: a request whose Transfer-Encoding does not end in chunked has no length
  // we could agree on with a proxy; Content-Length beside it is a smuggling attempt.
  if (req.find(http::field::transfer_encoding) != req.end()) {
    if (!chunked) return refuse(http::status::bad_request, "Transfer-Encoding must end in chunked");
    if (req.find(http::field::content_length) != req.end()) {
      return refuse(http::status::bad_request,
                    "Content-Length and Transfer-Encoding must not both be sent");
    }
  }
  // RFC 9112 3.2: an HTTP/1.1 request carries exactly one Host.
  const size_t hosts = req.count(http::field::host);
  if (req.version() >= 11 && hosts != 1) {
    return refuse(http::status::bad_request,
                  hosts == 0 ? "missing Host header" : "more than one Host header");
  }
  if (!options->allowed_hosts.empty()) {
    std::string_view host(req[http::field::host]);
    // "name:port", "[v6]:port", "name": keep the name.
    if (!host.empty() && host.front() == '[') {
      host = host.substr(
          0, host.find(']') == std::string_view::npos ? host.size() : host.find(']') + 1);
    } else {
      host = host.substr(0, host.find(':'));
    }
    bool allowed = false;
    for (const auto& h : options->allowed_hosts) allowed |= beast::iequals(host, h);
    if (!allowed) return refuse(http::status::forbidden, "Host is not in --allowed-hosts");
  }
  if (const auto* tokens = TokensFor(*options, Path(req))) {
    if (auto denied = Unauthorized(req, *tokens)) {
      counters_.requests.fetch_add(1, std::memory_order_relaxed);
      if (tokens == &options->ingest_tokens) {
        counters_.ingest_unauthorized.fetch_add(1, std::memory_order_relaxed);
      }
      LogRefusal(RequestLine(req), 401, "screen refused: bearer token");
      denied->keep_alive(false);
      return denied;
    }
  }
  return std::nullopt;
}

// One routed request's way through the layers, for its latency and its log line.
struct Router::Trace {
  const std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  // The request line's parts, kept raw (short strings: no allocation); made into a log line
  // only when one is written.
  std::string method, path;
  std::string_view route;             // the route that took it ("" = none)
  const char* refused_by = nullptr;   // "auth", "method": refused before the route's layers
  std::optional<IngestRoute> ingest;  // a POST to an ingest route
  IngestOutcome outcome;              // what parse and store decided (ingest routes)
};

void Router::Handle(Request&& req, const Post& post, Done done) {
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  const std::shared_ptr<const LiveOptions> live = live_.load();
  const RouterOptions* options = &live->router;
  auto trace = std::make_shared<Trace>();
  std::string_view path = Path(req);
  trace->method = std::string(req.method_string());
  trace->path = path.substr(0, 64);
  const auto method = req.method();
  // Every answer of a routed request passes here.
  Done answer = [this, trace, done = std::move(done)](Response&& res) {
    Finish(*trace, res);
    done(std::move(res));
  };
  auto wrong_method = [&](const char* allow) {
    trace->refused_by = "method";
    Response res =
        Fail(http::status::method_not_allowed, std::string("method not allowed; use ") + allow,
             req.version(), req.keep_alive());
    res.set(http::field::allow, allow);
    answer(std::move(res));
  };
  auto unauthorized = [&](const std::vector<std::string>& tokens, bool ingest) {
    auto denied = Unauthorized(req, tokens);
    if (!denied) return false;
    if (ingest) counters_.ingest_unauthorized.fetch_add(1, std::memory_order_relaxed);
    trace->refused_by = "auth";
    answer(std::move(*denied));
    return true;
  };
  if (path == "/events") {
    trace->route = "/events";
    if (method != http::verb::post) return wrong_method("POST");
    trace->ingest = IngestRoute::kEvents;
    if (unauthorized(options->ingest_tokens, true)) return;
    return PostEvents(std::move(req), *options, post, std::move(answer), &trace->outcome);
  }
  if (OtlpSignal signal; OtlpPath(path, &signal)) {
    trace->route = signal == OtlpSignal::kLogs ? "/v1/logs" : "/v1/metrics";
    if (method != http::verb::post) return wrong_method("POST");
    trace->ingest =
        signal == OtlpSignal::kLogs ? IngestRoute::kOtlpLogs : IngestRoute::kOtlpMetrics;
    if (unauthorized(options->ingest_tokens, true)) return;
    return otlp_.Handle(
        signal, live->otlp, std::move(req), post,
        [this, answer = std::move(answer)](Response&& r) {
          Count(r.result());
          answer(std::move(r));
        },
        &trace->outcome);
  }
  if (path == "/v1/traces") {
    return answer(Fail(http::status::not_found,
                       "OTLP traces are not accepted: Cistern takes /v1/logs and /v1/metrics",
                       req.version(), req.keep_alive()));
  }
  if (path == "/healthz" || path == "/readyz" || path == "/livez") {
    trace->route = path == "/livez" ? "/livez" : path == "/readyz" ? "/readyz" : "/healthz";
    if (method != http::verb::get && method != http::verb::head) return wrong_method("GET");
    Response res = Healthz(req, path == "/livez" ? Probe::kLive : Probe::kReady);
    if (method == http::verb::head) res.body().clear();
    return answer(std::move(res));
  }
  if (path == "/stats" || path == "/metrics") {
    trace->route = path == "/stats" ? "/stats" : "/metrics";
    if (method != http::verb::get) return wrong_method("GET");
    if (unauthorized(options->admin_tokens, false)) return;
    return answer(path == "/stats" ? Stats(req) : Metrics(req));
  }
  if (path == "/" || path == "/index.html") {
    trace->route = "/";
    if (method != http::verb::get && method != http::verb::head) return wrong_method("GET");
    return answer(StatusPage(req));
  }
  answer(Fail(http::status::not_found, "no such route: " + std::string(path), req.version(),
              req.keep_alive()));
}

void Router::PostEvents(Request&& req, const RouterOptions& options, const Post& post, Done done,
                        IngestOutcome* outcome) {
  const int retry_after = options.retry_after_seconds;
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();
  auto refuse = [&](const char* layer, const Status& s, int64_t index) {
    outcome->Refuse(layer, s);
    done(StatusError(s, index, version, keep_alive, retry_after));
  };

  std::string& body = req.body();
  std::string decoded;
  std::string_view encoding(req[http::field::content_encoding]);
  if (beast::iequals(encoding, "gzip")) {
    if (Status s = Gunzip(body, options.max_body_bytes, &decoded); !s.ok()) {
      return refuse("parse", s, -1);
    }
    body.swap(decoded);
  } else if (!encoding.empty() && !beast::iequals(encoding, "identity")) {
    return refuse("parse",
                  Status::Unsupported("unsupported Content-Encoding '" + std::string(encoding) +
                                      "' (use gzip or none)"),
                  -1);
  }
  BodyFormat format =
      MediaTypeIs(std::string_view(req[http::field::content_type]), "application/x-ndjson")
          ? BodyFormat::kNdjson
          : BodyFormat::kJson;
  outcome->format = format == BodyFormat::kNdjson ? "ndjson" : "json";

  // simdjson reads up to SIMDJSON_PADDING bytes past the end: make them ours.
  const size_t size = body.size();
  body.reserve(size + simdjson::SIMDJSON_PADDING);
  simdjson::padded_string_view padded(body.data(), size, body.capacity());

  // One parser per io thread: its buffers grow to the largest body seen and are reused.
  thread_local simdjson::dom::parser parser;
  EventBatch batch;
  int64_t index = -1;
  if (Status s = ParseEvents(padded, format, options.parse, UnixMillis(), parser, &batch, &index);
      !s.ok()) {
    return refuse("parse", s, index);
  }

  const size_t n = batch.size();
  outcome->events = static_cast<int64_t>(n);
  store_->Append(std::move(batch), [this, post, done = std::move(done), version, keep_alive, n,
                                    retry_after, outcome](const AppendResult& r) {
    // Runs on the writer thread: hand the result to the connection and return at once.
    post([this, done, r, version, keep_alive, n, retry_after, outcome] {
      if (!r.status.ok()) {
        outcome->Refuse("store", r.status);
        return done(StatusError(r.status, -1, version, keep_alive, retry_after));
      }
      outcome->first_id = r.first_id;
      std::string out;
      out.reserve(32 + n * 8);
      out += "{\"accepted\":";
      out += std::to_string(r.count);
      out += ",\"ids\":[";
      for (size_t i = 0; i < r.count; ++i) {
        if (i) out += ',';
        out += std::to_string(r.first_id + static_cast<int64_t>(i));
      }
      out += "]}";
      done(Json(http::status::ok, std::move(out), version, keep_alive));
    });
  });
}

void Router::Finish(const Trace& t, const Response& res) {
  const unsigned code = res.result_int();
  const IngestOutcome& o = t.outcome;
  const auto elapsed = std::chrono::steady_clock::now() - t.start;
  if (t.ingest) {
    counters_.latency(*t.ingest).Record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()));
    if (code == 200 && o.events > 0) {
      counters_.events_accepted.fetch_add(o.events, std::memory_order_relaxed);
    }
  }
  const bool refused = code >= 400;
  if (!refused && !spdlog::should_log(spdlog::level::debug)) return;  // nothing to format
  // "screen ok; route /events; parse 3 event(s) (ndjson); store ok (ids 7-9) (0.4 ms)"
  std::string decisions =
      t.route.empty() ? "screen ok; route none" : fmt::format("screen ok; route {}", t.route);
  if (t.refused_by != nullptr) {
    decisions += fmt::format("; {} refused", t.refused_by);
  } else if (t.ingest) {
    if (o.events >= 0) {
      decisions += fmt::format("; parse {} event(s) ({})", o.events, o.format);
    } else if (o.layer != nullptr) {
      decisions += fmt::format("; parse refused: {}", o.reason.message());
    }
    if (o.events >= 0 && o.layer != nullptr) {
      decisions += fmt::format("; store refused: {}", o.reason.message());
    } else if (o.first_id >= 0) {
      decisions += fmt::format("; store ok (ids {}-{})", o.first_id, o.first_id + o.events - 1);
    }
  }
  decisions +=
      fmt::format(" ({:.1f} ms)", std::chrono::duration<double, std::milli>(elapsed).count());
  if (refused) return LogRefusal(RequestLine(t.method, t.path), code, decisions);
  spdlog::debug("{} -> {}: {}", RequestLine(t.method, t.path), code, decisions);
}

void Router::LogRefusal(std::string_view request, unsigned code, std::string_view decisions) {
  spdlog::debug("{} -> {}: {}", request, code, decisions);
  if (code == 401) return;  // auth_log_ has it (Unauthorized)
  if (const int64_t n = refusal_log_.Tick()) {
    spdlog::info("refused {} request(s) in the last {} s; latest: {} -> {}: {}", n,
                 refusal_log_.interval_seconds(), request, code, decisions);
  }
}

std::optional<Response> Router::Unauthorized(const Request& req,
                                             const std::vector<std::string>& tokens) {
  if (tokens.empty()) return std::nullopt;
  std::string_view auth(req[http::field::authorization]);
  if (BearerMatches(auth, tokens)) return std::nullopt;
  // One log line per 10 s at most: a client guessing tokens must not flood the log.
  if (const int64_t since = auth_log_.Tick()) {
    spdlog::warn("refused {} request(s) with a {} bearer token (latest: {} {})", since,
                 auth.empty() ? "missing" : "wrong", std::string(req.method_string()),
                 ValidUtf8(std::string(Path(req)).substr(0, 64)));
  }
  Response res = Fail(http::status::unauthorized,
                      auth.empty() ? "missing bearer token (Authorization: Bearer <token>)"
                                   : "invalid bearer token",
                      req.version(), req.keep_alive());
  res.set(http::field::www_authenticate, "Bearer realm=\"cistern\"");
  return res;
}

Response Router::Metrics(const Request& req) {
  std::string text = RenderMetrics(store_->Stats(), counters_, uploader_, store_->Accepting(),
                                   config_reloads_, mqtt_);
  return Reply(http::status::ok, "text/plain; version=0.0.4; charset=utf-8", std::move(text),
               req.version(), req.keep_alive());
}

Response Router::StatusPage(const Request& req) {
  Response res = Reply(http::status::ok, "text/html; charset=utf-8", std::string(StatusPageHtml()),
                       req.version(), req.keep_alive());
  // HEAD: the GET answer's headers (Content-Length included), no body.
  if (req.method() == http::verb::head) res.body().clear();
  res.set(http::field::cache_control, "no-cache");
  // The page loads nothing from elsewhere; say so to the browser too.
  res.set("Content-Security-Policy",
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
          "connect-src 'self'; img-src data:; frame-ancestors 'none'");
  return res;
}

Response Router::Healthz(const Request& req, Probe probe) {
  // Liveness: this answer exists, so the io threads and the process work.
  if (probe == Probe::kLive) {
    return Json(http::status::ok, "{\"ok\":true}", req.version(), req.keep_alive());
  }
  Readiness r = CheckReadiness(*store_, uploader_);
  return Json(r.ready ? http::status::ok : http::status::service_unavailable, std::move(r.body),
              req.version(), req.keep_alive());
}

Response Router::Stats(const Request& req) {
  return Json(http::status::ok,
              RenderStats(store_->Stats(), counters_, mqtt_, uploader_, config_reloads_),
              req.version(), req.keep_alive());
}

}  // namespace cistern
