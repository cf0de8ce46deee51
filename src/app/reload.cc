#include "app/reload.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <tuple>
#include <utility>

#include "app/sink_factory.h"
#include "common/clock.h"
#include "common/duration.h"
#include "ingest/mqtt/listener.h"
#include "ingest/router.h"
#include "store/store.h"
#include "uploader/uploader.h"

namespace cistern {
namespace {

// Without the credentials of any URL in `text` (a comma-separated list too):
// "nats://u:p@h:4222" -> "nats://***@h:4222".
std::string WithoutCredentials(std::string text) {
  for (size_t scheme = text.find("://"); scheme != std::string::npos;
       scheme = text.find("://", scheme + 3)) {
    const size_t start = scheme + 3;
    const size_t end = std::min(text.find_first_of("/,?#", start), text.size());
    const size_t at = text.rfind('@', end - 1);
    if (end > start && at != std::string::npos && at >= start) {
      text.replace(start, at - start, "***");
    }
  }
  return text;
}

std::string Show(const std::string& v) { return v.empty() ? "\"\"" : WithoutCredentials(v); }
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

// One sink setting: named as applied (its value shown unless `secret`) when the sink changes
// live, else as needing a restart. The caller takes the whole SinkConfig when live.
enum class Shown { kValue, kSecret };
template <class T>
void SinkSetting(const char* name, const T& old_value, const T& new_value, bool live,
                 ReloadOutcome* out, Shown shown = Shown::kValue) {
  if (old_value == new_value) return;
  if (!live) {
    out->restart.push_back(name);
  } else if (shown == Shown::kSecret) {
    out->applied.push_back(fmt::format("{} (changed)", name));
  } else {
    out->applied.push_back(fmt::format("{} {} -> {}", name, Show(old_value), Show(new_value)));
  }
}

// The sink and its settings: live while an uploader runs before and after (--sink none has
// none to switch).
void MergeSink(const SinkConfig& a, const SinkConfig& b, SinkConfig* dst, ReloadOutcome* out) {
  const bool live = a.name != "none" && b.name != "none";
  SinkSetting("sink", a.name, b.name, live, out);
  SinkSetting("flaky-every", a.flaky_every, b.flaky_every, live, out);
  SinkSetting("webhook-url", a.webhook_url, b.webhook_url, live, out);
  SinkSetting("webhook-gzip", a.webhook_gzip, b.webhook_gzip, live, out);
  SinkSetting("webhook-timeout", a.webhook_timeout, b.webhook_timeout, live, out);
  SinkSetting("webhook-authorization", a.webhook_authorization, b.webhook_authorization, live, out,
              Shown::kSecret);
  SinkSetting("nats-url", a.nats_url, b.nats_url, live, out);
  SinkSetting("nats-subject", a.nats_subject, b.nats_subject, live, out);
  SinkSetting("nats-stream", a.nats_stream, b.nats_stream, live, out);
  SinkSetting("nats-replicas", a.nats_replicas, b.nats_replicas, live, out);
  SinkSetting("mqtt-url", a.mqtt_url, b.mqtt_url, live, out);
  SinkSetting("mqtt-topic", a.mqtt_topic, b.mqtt_topic, live, out);
  SinkSetting("sink-timeout", a.sink_timeout, b.sink_timeout, live, out);
  SinkSetting("otlp-url", a.otlp_url, b.otlp_url, live, out);
  SinkSetting("otlp-encoding", a.otlp_encoding, b.otlp_encoding, live, out);
  SinkSetting("otlp-gzip", a.otlp_gzip, b.otlp_gzip, live, out);
  SinkSetting("otlp-header", a.otlp_headers, b.otlp_headers, live, out, Shown::kSecret);
  SinkSetting("otlp-timeout", a.otlp_timeout, b.otlp_timeout, live, out);
  if (live) *dst = b;
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
  Live("allowed-hosts", o.router.allowed_hosts, n.router.allowed_hosts, &m.router.allowed_hosts,
       out);
  Live("max-batch-events", o.router.parse.max_events, n.router.parse.max_events,
       &m.router.parse.max_events, out);
  Live("max-payload-bytes", o.router.parse.max_payload_bytes, n.router.parse.max_payload_bytes,
       &m.router.parse.max_payload_bytes, out);
  // The MQTT listener checks CONNECT passwords against the ingest tokens and parses payloads
  // with the same limits (app/config.cc): it follows them.
  m.mqtt_listen.tokens = m.router.ingest_tokens;
  m.mqtt_listen.parse = m.router.parse;
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
  MergeSink(o.sink, n.sink, &m.sink, out);

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
  Restart("otlp-device-attrs", o.router.otlp_decode.device_id_attributes,
          n.router.otlp_decode.device_id_attributes, out);
  const mqtt::ListenerOptions& lo = o.mqtt_listen;
  const mqtt::ListenerOptions& ln = n.mqtt_listen;
  Restart("mqtt-listen", std::tie(lo.plain, lo.host, lo.port), std::tie(ln.plain, ln.host, ln.port),
          out);
  Restart("mqtts-listen", std::tie(lo.tls, lo.tls_host, lo.tls_port),
          std::tie(ln.tls, ln.tls_host, ln.tls_port), out);
  Restart("mqtt-listen-topic", lo.topic_template, ln.topic_template, out);
  return m;
}

Reloader::Reloader(Config running, Router& router, Store& store, Uploader* uploader,
                   mqtt::MqttListener* mqtt)
    : running_(std::move(running)),
      router_(router),
      store_(store),
      uploader_(uploader),
      mqtt_(mqtt) {
  router_.config_reloads().loaded_at_ms = UnixMillis();
}

ReloadOutcome Reloader::Reload(const std::function<ParsedArgs()>& parse) {
  ReloadOutcome out;
  ConfigReloads& figures = router_.config_reloads();
  auto fail = [&](std::string error) {
    out = ReloadOutcome{};
    out.error = std::move(error);
    figures.error++;
    spdlog::error("config reload failed, keeping the running config: {}", out.error);
    return out;
  };
  ParsedArgs parsed = parse();
  if (parsed.action != ParsedArgs::Action::kRun || !parsed.error.empty()) {
    return fail(parsed.error.empty() ? "the command line asks to exit" : parsed.error);
  }
  Config merged = MergeLive(running_, parsed.config, &out);
  // The new sink is built before anything is applied: a sink that cannot be built fails the
  // reload as a whole, like a file that does not parse, and the old one keeps shipping.
  std::unique_ptr<Sink> sink;
  if (uploader_ != nullptr && !(merged.sink == running_.sink)) {
    auto made = MakeSink(merged.sink, store_.node_id());
    if (!made.ok()) {
      return fail(fmt::format("--sink {}: {}", merged.sink.name, made.status().message()));
    }
    sink = std::move(made.value());
  }
  out.ok = true;
  const Config old = std::exchange(running_, std::move(merged));
  const Config& now = running_;

  if (now.log_level != old.log_level) spdlog::set_level(spdlog::level::from_str(now.log_level));
  const RouterOptions& ro = old.router;
  const RouterOptions& rn = now.router;
  if (ro.ingest_tokens != rn.ingest_tokens || ro.admin_tokens != rn.admin_tokens ||
      ro.allowed_hosts != rn.allowed_hosts || ro.parse.max_events != rn.parse.max_events ||
      ro.parse.max_payload_bytes != rn.parse.max_payload_bytes) {
    router_.SetOptions(rn);
  }
  if (mqtt_ != nullptr &&
      (old.mqtt_listen.tokens != now.mqtt_listen.tokens ||
       old.mqtt_listen.parse.max_events != now.mqtt_listen.parse.max_events ||
       old.mqtt_listen.parse.max_payload_bytes != now.mqtt_listen.parse.max_payload_bytes)) {
    mqtt_->SetLive(mqtt::LiveOptions{now.mqtt_listen.tokens, now.mqtt_listen.parse});
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
  if (sink) uploader_->SetSink(std::move(sink));

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
