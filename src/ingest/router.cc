#include "ingest/router.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/beast/core/string.hpp>
#include <chrono>
#include <string_view>

#include "common/clock.h"
#include "common/json_writer.h"
#include "common/secrets.h"
#include "common/utf8.h"
#include "event/gzip.h"
#include "ingest/metrics.h"
#include "ingest/mqtt/stats.h"
#include "ingest/status_page.h"

namespace cistern {
namespace {

namespace beast = boost::beast;

// "Application/X-NDJSON; charset=utf-8" -> "application/x-ndjson".
bool MediaTypeIs(std::string_view header, std::string_view type) {
  auto semi = header.find(';');
  std::string_view media = header.substr(0, semi);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  while (!media.empty() && media.front() == ' ') media.remove_prefix(1);
  return beast::iequals(media, type);
}

http::status ToHttp(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk:
      return http::status::ok;
    case Status::Code::kInvalidArgument:
      return http::status::bad_request;
    case Status::Code::kTooLarge:
      return http::status::payload_too_large;
    case Status::Code::kUnsupported:
      return http::status::unsupported_media_type;
    case Status::Code::kBufferFull:
    case Status::Code::kBusy:
    case Status::Code::kUnavailable:
      return http::status::service_unavailable;
    case Status::Code::kDiskFull:
      return http::status::insufficient_storage;
    case Status::Code::kIoError:
    case Status::Code::kInternal:
      return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

// The path without its query string.
std::string_view Path(const Request& req) {
  std::string_view target(req.target().data(), req.target().size());
  return target.substr(0, target.find('?'));
}

void WriteLatency(JsonWriter& w, std::string_view key, const LatencyHistogram::Snapshot& s) {
  w.Key(key);
  w.BeginObject();
  w.Key("count");
  w.Uint(s.count);
  w.Key("p50");
  w.Double(s.QuantileUs(0.50) / 1000.0);
  w.Key("p99");
  w.Double(s.QuantileUs(0.99) / 1000.0);
  w.Key("max");
  w.Double(s.max_us / 1000.0);
  w.Key("mean");
  w.Double(s.count ? static_cast<double>(s.sum_us) / s.count / 1000.0 : 0.0);
  w.EndObject();
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
      options_(std::make_shared<const RouterOptions>(options)),
      uploader_(uploader),
      otlp_(store_, OtlpOptions(options), [this](int64_t events, uint64_t latency_us) {
        counters_.events_accepted.fetch_add(events, std::memory_order_relaxed);
        counters_.post_latency.Record(latency_us);
      }) {}

void Router::SetOptions(RouterOptions options) {
  options_.store(std::make_shared<const RouterOptions>(std::move(options)));
}

void Router::Count(http::status status) {
  auto code = static_cast<unsigned>(status);
  if (code < 300)
    counters_.status_2xx.fetch_add(1, std::memory_order_relaxed);
  else if (code == 400)
    counters_.status_400.fetch_add(1, std::memory_order_relaxed);
  else if (code == 401)
    counters_.status_401.fetch_add(1, std::memory_order_relaxed);
  else if (code == 404 || code == 405)
    counters_.status_404_405.fetch_add(1);
  else if (code == 413)
    counters_.status_413.fetch_add(1, std::memory_order_relaxed);
  else if (code == 415)
    counters_.status_415.fetch_add(1, std::memory_order_relaxed);
  else if (code < 500)
    counters_.status_4xx_other.fetch_add(1, std::memory_order_relaxed);
  else if (code == 503)
    counters_.status_503.fetch_add(1, std::memory_order_relaxed);
  else if (code == 507)
    counters_.status_507.fetch_add(1, std::memory_order_relaxed);
  else
    counters_.status_5xx_other.fetch_add(1, std::memory_order_relaxed);
}

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
  Response res = Json(ToHttp(s), w.Take(), version, keep_alive);
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
  const std::shared_ptr<const RouterOptions> options = options_.load();
  auto refuse = [&](http::status status, std::string_view message) {
    counters_.requests.fetch_add(1, std::memory_order_relaxed);
    return std::optional<Response>(Error(status, message, req.version(), false));
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
      denied->keep_alive(false);
      return denied;
    }
  }
  return std::nullopt;
}

void Router::Handle(Request&& req, const Post& post, Done done) {
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  const std::shared_ptr<const RouterOptions> options = options_.load();
  std::string_view path = Path(req);
  const auto method = req.method();
  auto wrong_method = [&](const char* allow) {
    Response res =
        Error(http::status::method_not_allowed, std::string("method not allowed; use ") + allow,
              req.version(), req.keep_alive());
    res.set(http::field::allow, allow);
    done(std::move(res));
  };
  if (path == "/events") {
    if (method != http::verb::post) return wrong_method("POST");
    if (auto denied = Unauthorized(req, options->ingest_tokens)) {
      counters_.ingest_unauthorized.fetch_add(1, std::memory_order_relaxed);
      return done(std::move(*denied));
    }
    return PostEvents(std::move(req), *options, post, std::move(done));
  }
  if (OtlpSignal signal; OtlpPath(path, &signal)) {
    if (method != http::verb::post) return wrong_method("POST");
    if (auto denied = Unauthorized(req, options->ingest_tokens)) {
      counters_.ingest_unauthorized.fetch_add(1, std::memory_order_relaxed);
      return done(std::move(*denied));
    }
    return otlp_.Handle(signal, std::move(req), post, [this, done = std::move(done)](Response&& r) {
      Count(r.result());
      done(std::move(r));
    });
  }
  if (path == "/v1/traces") {
    return done(Error(http::status::not_found,
                      "OTLP traces are not accepted: Cistern takes /v1/logs and /v1/metrics",
                      req.version(), req.keep_alive()));
  }
  if (path == "/healthz" || path == "/readyz" || path == "/livez") {
    if (method != http::verb::get && method != http::verb::head) return wrong_method("GET");
    Response res = Healthz(req, path == "/livez" ? Probe::kLive : Probe::kReady);
    if (method == http::verb::head) res.body().clear();
    return done(std::move(res));
  }
  if (path == "/stats") {
    if (method != http::verb::get) return wrong_method("GET");
    if (auto denied = Unauthorized(req, options->admin_tokens)) return done(std::move(*denied));
    return done(Stats(req));
  }
  if (path == "/metrics") {
    if (method != http::verb::get) return wrong_method("GET");
    if (auto denied = Unauthorized(req, options->admin_tokens)) return done(std::move(*denied));
    return done(Metrics(req));
  }
  if (path == "/" || path == "/index.html") {
    if (method != http::verb::get && method != http::verb::head) return wrong_method("GET");
    return done(StatusPage(req));
  }
  done(Error(http::status::not_found, "no such route: " + std::string(path), req.version(),
             req.keep_alive()));
}

void Router::PostEvents(Request&& req, const RouterOptions& options, const Post& post, Done done) {
  const int retry_after = options.retry_after_seconds;
  const auto start = std::chrono::steady_clock::now();
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();

  std::string& body = req.body();
  std::string decoded;
  std::string_view encoding(req[http::field::content_encoding]);
  if (beast::iequals(encoding, "gzip")) {
    if (Status s = Gunzip(body, options.max_body_bytes, &decoded); !s.ok()) {
      return done(StatusError(s, -1, version, keep_alive, retry_after));
    }
    body.swap(decoded);
  } else if (!encoding.empty() && !beast::iequals(encoding, "identity")) {
    return done(StatusError(Status::Unsupported("unsupported Content-Encoding '" +
                                                std::string(encoding) + "' (use gzip or none)"),
                            -1, version, keep_alive, retry_after));
  }
  BodyFormat format =
      MediaTypeIs(std::string_view(req[http::field::content_type]), "application/x-ndjson")
          ? BodyFormat::kNdjson
          : BodyFormat::kJson;

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
    return done(StatusError(s, index, version, keep_alive, retry_after));
  }

  const size_t n = batch.size();
  store_->Append(std::move(batch), [this, post, done = std::move(done), version, keep_alive, start,
                                    n, retry_after](const AppendResult& r) {
    // Runs on the writer thread: hand the result to the connection and return at once.
    post([this, done, r, version, keep_alive, start, n, retry_after] {
      Response res;
      if (r.status.ok()) {
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
        counters_.events_accepted.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
        res = Json(http::status::ok, std::move(out), version, keep_alive);
      } else {
        res = StatusError(r.status, -1, version, keep_alive, retry_after);
      }
      counters_.post_latency.Record(
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::steady_clock::now() - start)
                                    .count()));
      done(std::move(res));
    });
  });
}

std::optional<Response> Router::Unauthorized(const Request& req,
                                             const std::vector<std::string>& tokens) {
  if (tokens.empty()) return std::nullopt;
  std::string_view auth(req[http::field::authorization]);
  if (BearerMatches(auth, tokens)) return std::nullopt;
  // One log line per 10 s at most: a client guessing tokens must not flood the log.
  auth_failures_.fetch_add(1, std::memory_order_relaxed);
  const int64_t now = SteadyMillis();
  int64_t due = auth_log_due_ms_.load(std::memory_order_relaxed);
  if (now >= due && auth_log_due_ms_.compare_exchange_strong(due, now + 10'000)) {
    const int64_t total = auth_failures_.load(std::memory_order_relaxed);
    const int64_t since = total - auth_failures_logged_.exchange(total);
    spdlog::warn("refused {} request(s) with a {} bearer token (latest: {} {})", since,
                 auth.empty() ? "missing" : "wrong", std::string(req.method_string()),
                 ValidUtf8(std::string(Path(req)).substr(0, 64)));
  }
  Response res = Error(http::status::unauthorized,
                       auth.empty() ? "missing bearer token (Authorization: Bearer <token>)"
                                    : "invalid bearer token",
                       req.version(), req.keep_alive());
  res.set(http::field::www_authenticate, "Bearer realm=\"cistern\"");
  return res;
}

Response Router::Metrics(const Request& req) {
  std::string text =
      RenderMetrics(store_->Stats(), counters_, uploader_, store_->Accepting(), mqtt_);
  // The configuration in effect (docs/configuration.md "Reload").
  const ConfigReloads& r = config_reloads_;
  text += fmt::format(
      "# HELP cistern_config_reloads_total SIGHUP config reloads, by result (error: the running "
      "config stayed)\n"
      "# TYPE cistern_config_reloads_total counter\n"
      "cistern_config_reloads_total{{result=\"ok\"}} {}\n"
      "cistern_config_reloads_total{{result=\"error\"}} {}\n"
      "# HELP cistern_config_loaded_timestamp_seconds When the config in effect was loaded\n"
      "# TYPE cistern_config_loaded_timestamp_seconds gauge\n"
      "cistern_config_loaded_timestamp_seconds {:.3f}\n",
      r.ok.load(), r.error.load(), static_cast<double>(r.loaded_at_ms.load()) / 1000.0);
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
  // Readiness: events sent now would be stored (store healthy; below the bound, or evicting
  // to make room). The sink's state is reported, never a reason to leave rotation: during an
  // upstream outage the buffer is exactly what is needed (docs/api.md, "Health").
  StoreStats s = store_->Stats();
  const Status store_health = store_->Health();
  const bool accepting = store_->Accepting();
  const bool backlog_ok = (s.max_backlog == 0 || s.backlog < s.max_backlog) &&
                          (s.max_db_bytes == 0 || s.used_bytes < s.max_db_bytes);
  const bool upstream_ok = uploader_ == nullptr || uploader_->Healthy();
  JsonWriter w;
  w.BeginObject();
  w.Key("ok");
  w.Bool(accepting);
  w.Key("ready");
  w.Bool(accepting);
  w.Key("store");
  w.String(store_health.ok() ? "ok" : store_health.message());
  w.Key("backlog");
  w.Int(s.backlog);
  w.Key("backlog_ok");
  w.Bool(backlog_ok);
  w.Key("uploader");
  w.String(uploader_ ? uploader_->State() : "not configured");
  w.Key("upstream_ok");
  w.Bool(upstream_ok);
  w.EndObject();
  return Json(accepting ? http::status::ok : http::status::service_unavailable, w.Take(),
              req.version(), req.keep_alive());
}

Response Router::Stats(const Request& req) {
  StoreStats s = store_->Stats();
  JsonWriter w;
  w.BeginObject();
  w.Key("store");
  w.BeginObject();
  w.Key("mode");
  w.String(s.mode);
  w.Key("indexed");
  w.Bool(s.indexed);
  w.Key("node_id");
  w.String(s.node_id);
  w.Key("path");
  w.String(s.path);
  w.Key("events_written");
  w.Int(s.events_written);
  w.Key("events_written_session");
  w.Int(s.events_written_session);
  w.Key("backlog");
  w.Int(s.backlog);
  w.Key("max_backlog");
  w.Int(s.max_backlog);
  w.Key("devices_seen");
  w.Int(s.devices_seen);
  w.Key("events_uploaded");
  w.Int(s.events_uploaded);
  w.Key("events_dropped");
  w.Int(s.events_dropped);
  w.Key("events_pruned");
  w.Int(s.events_pruned);
  w.Key("dead_letters");
  w.Int(s.dead_letters);
  w.Key("upload_cursor");
  w.Int(s.upload_cursor);
  w.Key("on_full");
  w.String(s.on_full);
  w.Key("max_db_bytes");
  w.Int(s.max_db_bytes);
  w.Key("used_bytes");
  w.Int(s.used_bytes);
  w.Key("commits");
  w.Int(s.commits);
  w.Key("commit_failures");
  w.Int(s.commit_failures);
  w.Key("requests_per_commit");
  w.Double(s.commits ? static_cast<double>(s.requests_committed) / s.commits : 0.0);
  w.Key("commit_conflicts");
  w.Int(s.commit_conflicts);
  WriteLatency(w, "commit_latency_ms", s.commit_latency);
  w.Key("checkpoints");
  w.Int(s.checkpoints);
  WriteLatency(w, "checkpoint_ms", s.checkpoint_latency);
  w.Key("checkpoints_deferred");
  w.Int(s.checkpoints_deferred);
  w.Key("background_checkpoints");
  w.Int(s.background_checkpoints);
  WriteLatency(w, "background_checkpoint_ms", s.background_checkpoint_latency);
  w.Key("wal_frames");
  w.Int(s.wal_frames);
  w.Key("queue_depth");
  w.Int(s.queue_depth);
  w.Key("db_bytes");
  w.Int(s.db_bytes);
  w.EndObject();

  const HttpCounters& c = counters_;
  w.Key("http");
  w.BeginObject();
  w.Key("requests");
  w.Int(c.requests.load());
  w.Key("events_accepted");
  w.Int(c.events_accepted.load());
  w.Key("responses");
  w.BeginObject();
  w.Key("2xx");
  w.Int(c.status_2xx.load());
  w.Key("400");
  w.Int(c.status_400.load());
  w.Key("401");
  w.Int(c.status_401.load());
  w.Key("404_405");
  w.Int(c.status_404_405.load());
  w.Key("413");
  w.Int(c.status_413.load());
  w.Key("415");
  w.Int(c.status_415.load());
  w.Key("4xx_other");
  w.Int(c.status_4xx_other.load());
  w.Key("503");
  w.Int(c.status_503.load());
  w.Key("507");
  w.Int(c.status_507.load());
  w.Key("5xx_other");
  w.Int(c.status_5xx_other.load());
  w.EndObject();
  WriteLatency(w, "post_latency_ms", c.post_latency.Take());
  w.EndObject();

  if (mqtt_) {
    w.Key("mqtt");
    mqtt::WriteMqttStats(w, *mqtt_);
  }
  w.Key("uploader");
  if (uploader_) {
    uploader_->WriteStats(w);
  } else {
    w.BeginObject();
    w.Key("configured");
    w.Bool(false);
    w.EndObject();
  }
  w.Key("config");
  w.BeginObject();
  w.Key("loaded_at_ms");
  w.Int(config_reloads_.loaded_at_ms.load());
  w.Key("reloads");
  w.Int(config_reloads_.ok.load());
  w.Key("reload_failures");
  w.Int(config_reloads_.error.load());
  w.Key("restart_pending");
  w.Int(config_reloads_.restart_pending.load());
  w.EndObject();
  w.EndObject();
  return Json(http::status::ok, w.Take(), req.version(), req.keep_alive());
}

}  // namespace cistern
