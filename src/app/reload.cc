#include "app/reload.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <string>
#include <tuple>
#include <utility>

#include "common/clock.h"
#include "common/duration.h"
#include "ingest/router.h"
#include "store/store.h"
#include "uploader/uploader.h"

namespace cistern {
namespace {

std::string Show(const std::string& v) { return v.empty() ? "\"\"" : v; }
std::string Show(std::chrono::milliseconds v) { return fmt::format("{}ms", v.count()); }
std::string Show(OnFull v) { return v == OnFull::kDropOldest ? "drop-oldest" : "reject"; }
std::string Show(const std::vector<std::string>& v) { return fmt::format("{}", fmt::join(v, ",")); }
template <class T>
std::string Show(const T& v) {
  return fmt::format("{}", v);
}

// Records a changed live setting and takes its new value.
template <class T>
bool Live(const char* name, const T& old_value, const T& new_value, T* dst, ReloadOutcome* out) {
  if (old_value == new_value) return false;
  out->applied.push_back(fmt::format("{} {} -> {}", name, Show(old_value), Show(new_value)));
  *dst = new_value;
  return true;
}

// Token lists are secrets: say how many, never which.
bool LiveTokens(const char* name, const std::vector<std::string>& old_value,
                const std::vector<std::string>& new_value, std::vector<std::string>* dst,
                ReloadOutcome* out) {
  if (old_value == new_value) return false;
  out->applied.push_back(
      fmt::format("{} ({} -> {} token(s))", name, old_value.size(), new_value.size()));
  *dst = new_value;
  return true;
}

template <class T>
void Restart(const char* name, const T& old_value, const T& new_value, ReloadOutcome* out) {
  if (!(old_value == new_value)) out->restart.push_back(name);
}

}  // namespace

Config MergeLive(const Config& running, const Config& next, ReloadOutcome* out) {
  Config m = running;
  const Config& o = running;
  const Config& n = next;
  Live("log-level", o.log_level, n.log_level, &m.log_level, out);
  LiveTokens("auth-token-file", o.router.ingest_tokens, n.router.ingest_tokens,
             &m.router.ingest_tokens, out);
  LiveTokens("admin-token-file", o.router.admin_tokens, n.router.admin_tokens,
             &m.router.admin_tokens, out);
  // The MQTT listener checks CONNECT passwords against the tokens it started with: a changed
  // token file reaches HTTP now, MQTT only after a restart (docs/configuration.md "Reload").
  if ((o.mqtt_listen.plain || o.mqtt_listen.tls) &&
      o.router.ingest_tokens != n.router.ingest_tokens) {
    out->restart.push_back("auth-token-file (for the MQTT listener)");
  }
  Live("allowed-hosts", o.router.allowed_hosts, n.router.allowed_hosts, &m.router.allowed_hosts,
       out);
  Live("max-batch-events", o.router.parse.max_events, n.router.parse.max_events,
       &m.router.parse.max_events, out);
  Live("max-payload-bytes", o.router.parse.max_payload_bytes, n.router.parse.max_payload_bytes,
       &m.router.parse.max_payload_bytes, out);
  Live("upload-interval", o.uploader.interval, n.uploader.interval, &m.uploader.interval, out);
  Live("upload-batch", o.uploader.batch, n.uploader.batch, &m.uploader.batch, out);
  if (Live("retry-max-backoff", o.uploader.max_backoff, n.uploader.max_backoff,
           &m.uploader.max_backoff, out)) {
    m.uploader.initial_backoff = n.uploader.initial_backoff;
  }
  Live("max-backlog", o.store.max_backlog, n.store.max_backlog, &m.store.max_backlog, out);
  Live("max-db-bytes", o.store.max_db_bytes, n.store.max_db_bytes, &m.store.max_db_bytes, out);
  Live("on-full", o.store.on_full, n.store.on_full, &m.store.on_full, out);
  Live("retain-uploaded", o.store.retain_uploaded, n.store.retain_uploaded,
       &m.store.retain_uploaded, out);
  Live("drain-timeout", o.drain_timeout, n.drain_timeout, &m.drain_timeout, out);

  Restart("db", o.store.path, n.store.path, out);
  Restart("mode", o.store.mode, n.store.mode, out);
  Restart("indexed", o.store.indexed, n.store.indexed, out);
  Restart("addr", std::tie(o.server.host, o.server.port), std::tie(n.server.host, n.server.port),
          out);
  Restart("io-threads", o.server.io_threads, n.server.io_threads, out);
  Restart("max-connections", o.server.max_connections, n.server.max_connections, out);
  Restart("max-body-bytes", o.router.max_body_bytes, n.router.max_body_bytes, out);
  Restart("header-timeout", o.server.session.header_timeout, n.server.session.header_timeout, out);
  Restart("body-timeout", o.server.session.body_timeout, n.server.session.body_timeout, out);
  Restart("shutdown-grace", o.server.shutdown_grace, n.server.shutdown_grace, out);
  Restart("tls-cert", o.server.tls_cert, n.server.tls_cert, out);
  Restart("tls-key", o.server.tls_key, n.server.tls_key, out);
  Restart("ready-file", o.ready_file, n.ready_file, out);
  const SinkConfig& a = o.sink;
  const SinkConfig& b = n.sink;
  Restart("sink", a.name, b.name, out);
  Restart("flaky-every", a.flaky_every, b.flaky_every, out);
  Restart("webhook-url", a.webhook_url, b.webhook_url, out);
  Restart("webhook-gzip", a.webhook_gzip, b.webhook_gzip, out);
  Restart("webhook-timeout", a.webhook_timeout, b.webhook_timeout, out);
  Restart("webhook-authorization", a.webhook_authorization, b.webhook_authorization, out);
  Restart("nats-url", a.nats_url, b.nats_url, out);
  Restart("nats-subject", a.nats_subject, b.nats_subject, out);
  Restart("nats-stream", a.nats_stream, b.nats_stream, out);
  Restart("nats-replicas", a.nats_replicas, b.nats_replicas, out);
  Restart("mqtt-url", a.mqtt_url, b.mqtt_url, out);
  Restart("mqtt-topic", a.mqtt_topic, b.mqtt_topic, out);
  Restart("sink-timeout", a.sink_timeout, b.sink_timeout, out);
  return m;
}

Reloader::Reloader(Config running, Router& router, Store& store, Uploader* uploader)
    : running_(std::move(running)), router_(router), store_(store), uploader_(uploader) {
  router_.config_reloads().loaded_at_ms = UnixMillis();
}

ReloadOutcome Reloader::Reload(const std::function<ParsedArgs()>& parse) {
  ReloadOutcome out;
  ConfigReloads& figures = router_.config_reloads();
  ParsedArgs parsed = parse();
  if (parsed.action != ParsedArgs::Action::kRun || !parsed.error.empty()) {
    out.error = parsed.error.empty() ? "the command line asks to exit" : parsed.error;
    figures.error++;
    spdlog::error("config reload failed, keeping the running config: {}", out.error);
    return out;
  }
  out.ok = true;
  const Config old = running_;
  running_ = MergeLive(old, parsed.config, &out);
  const Config& now = running_;

  if (now.log_level != old.log_level) spdlog::set_level(spdlog::level::from_str(now.log_level));
  const RouterOptions& ro = old.router;
  const RouterOptions& rn = now.router;
  if (ro.ingest_tokens != rn.ingest_tokens || ro.admin_tokens != rn.admin_tokens ||
      ro.allowed_hosts != rn.allowed_hosts || ro.parse.max_events != rn.parse.max_events ||
      ro.parse.max_payload_bytes != rn.parse.max_payload_bytes) {
    router_.SetOptions(rn);
  }
  if (old.store.max_backlog != now.store.max_backlog ||
      old.store.max_db_bytes != now.store.max_db_bytes || old.store.on_full != now.store.on_full ||
      old.store.retain_uploaded != now.store.retain_uploaded) {
    store_.SetBufferLimits(now.store.max_backlog, static_cast<int64_t>(now.store.max_db_bytes),
                           now.store.on_full, now.store.retain_uploaded);
  }
  if (uploader_ != nullptr &&
      (old.uploader.interval != now.uploader.interval || old.uploader.batch != now.uploader.batch ||
       old.uploader.max_backoff != now.uploader.max_backoff)) {
    uploader_->SetOptions(now.uploader);
  }

  figures.ok++;
  figures.loaded_at_ms = UnixMillis();
  figures.restart_pending = static_cast<int64_t>(out.restart.size());
  if (out.applied.empty()) {
    spdlog::info("config reloaded: no live setting changed");
  } else {
    spdlog::info("config reloaded: {}", fmt::join(out.applied, "; "));
  }
  if (!out.restart.empty()) {
    spdlog::warn("config reload: {} changed but needs a restart; the running value stays",
                 fmt::join(out.restart, ", "));
  }
  return out;
}

}  // namespace cistern
