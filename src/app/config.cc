#include "app/config.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>
#include <tuple>

#include "app/config_sources.h"
#include "app/sink_factory.h"
#include "common/duration.h"
#include "common/secrets.h"
#include "ingest/mqtt/packet.h"
#include "store/schema.h"
#include "store/sqlite.h"

namespace cistern {

namespace {

// Settings whose effect depends on the database file as much as on the configuration, for
// --print-config: name -> what is in effect. Reads an existing file only (never creates it).
std::map<std::string, std::string> InEffect(const Config& c) {
  std::map<std::string, std::string> notes;
  std::error_code ec;
  if (c.store.indexed || !std::filesystem::is_regular_file(c.store.path, ec)) return notes;
  auto db = sql::Db::Open(c.store.path, sql::Db::Mode::kReadOnly);
  if (!db.ok()) return notes;
  // --indexed creates the device index; nothing drops it (docs/storage.md).
  if (auto has = HasDeviceIndex(**db); has.ok() && *has) {
    notes["indexed"] = "in effect: true (" + c.store.path +
                       " has the device index, which indexed = false does not drop)";
  }
  return notes;
}

}  // namespace

Status ParseAddr(const std::string& text, std::string* host, uint16_t* port) {
  auto bad = [&] {
    return Status::InvalidArgument("invalid --addr '" + text +
                                   "' (expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080)");
  };
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return bad();
  std::string h = text.substr(0, colon);
  std::string p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) h = "0.0.0.0";
  in6_addr scratch;
  if (inet_pton(AF_INET, h.c_str(), &scratch) != 1 &&
      inet_pton(AF_INET6, h.c_str(), &scratch) != 1) {
    return Status::InvalidArgument("invalid --addr '" + text + "': '" + h +
                                   "' is not an IPv4 or IPv6 address");
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc() || end != p.data() + p.size() || value > 65535) return bad();
  *host = h;
  *port = static_cast<uint16_t>(value);
  return Status::Ok();
}

namespace {
// CLI::NonNegativeNumber's message prints a 300-digit upper bound (issue 16).
const CLI::Validator kZeroOrMore(
    [](std::string& text) -> std::string {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size() || v < 0) {
        return "'" + text + "' is not a whole number of 0 or more";
      }
      return "";
    },
    "INT>=0");
}  // namespace

ParsedArgs ParseArgs(int argc, char** argv, bool quiet) {
  ParsedArgs out;
  Config& c = out.config;
  CLI::App app{
      "cistern: an edge event collector. Devices POST events over HTTP; each is stored durably\n"
      "in a local SQLite file (WAL, fsync) before the answer, and shipped upstream later."};
  app.get_formatter()->column_width(34);
  app.set_version_flag("--version", "cistern " CISTERN_VERSION);
  app.footer(
      "Every flag can also be set in a TOML file (--config FILE, or CISTERN_CONFIG) under the\n"
      "same name (max-backlog = 1000), or in the environment as CISTERN_ + upper snake case\n"
      "(CISTERN_MAX_BACKLOG=1000). Precedence: flag > environment > file > default.");

  std::string addr = "127.0.0.1:8080";
  std::string mode = "group";
  std::string upload_interval = "1s", retry_max_backoff = "30s", retain = "24h";
  std::string drain_timeout = "5s", webhook_timeout = "10s", sink_timeout = "10s";
  std::string otlp_timeout = "10s",
              otlp_device_attrs = "device.id,host.name,service.instance.id,service.name";
  std::string max_db_bytes = "0", on_full = "reject";
  SinkConfig& k = c.sink;
  std::string auth_token_file, admin_token_file;
  std::string max_body = "1MiB", max_payload = "64KiB";
  std::string header_timeout = "30s", body_timeout = "30s", shutdown_grace = "10s";
  int64_t max_backlog = c.store.max_backlog;
  // The writer thread wants a core of its own: io threads take the rest (at least one).
  int io_threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 2u, 9u) - 1);
  size_t max_events = c.router.parse.max_events;
  size_t max_connections = c.server.max_connections;

  std::string mqtt_listen, mqtts_listen;  // MQTT ingest (docs/mqtt.md)
  std::string config_file;
  bool print_config = false;
  app.add_option("--config", config_file,
                 "TOML file of settings, named like the flags (also: CISTERN_CONFIG)");
  app.add_flag("--print-config", print_config,
               "print the effective configuration (as TOML, with each value's origin) and exit");
  app.add_option("--db", c.store.path, "SQLite database file (created if missing)")
      ->capture_default_str();
  app.add_option("--addr", addr, "listen address HOST:PORT (port 0 = any free port)")
      ->capture_default_str();
  app.add_option("--mode", mode,
                 "write strategy: group (group commit), serialized (a transaction per request "
                 "under one mutex), concurrent (a connection per io thread); the last two exist "
                 "for comparison")
      ->capture_default_str()
      ->check(CLI::IsMember({"group", "serialized", "concurrent"}));
  app.add_flag("--indexed", c.store.indexed,
               "create an index on events(device_id) (faster per-device queries)");
  app.add_option("--max-backlog", max_backlog,
                 "answer 503 + Retry-After once this many events wait for upload (0 = unlimited)")
      ->capture_default_str()
      ->check(kZeroOrMore);
  app.add_option("--io-threads", io_threads, "HTTP io threads (default: cores - 1)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--max-body-bytes", max_body,
                 "largest request body, also once gunzipped (larger: 413)")
      ->capture_default_str();
  app.add_option("--max-batch-events", max_events, "most events in one request (more: 413)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}));
  app.add_option("--max-payload-bytes", max_payload,
                 "largest payload of one event, compacted (larger: 400 naming the event)")
      ->capture_default_str();
  app.add_option("--header-timeout", header_timeout,
                 "time to receive a request's headers; also how long an idle keep-alive "
                 "connection stays open")
      ->capture_default_str();
  app.add_option("--body-timeout", body_timeout, "time to receive a request's body")
      ->capture_default_str();
  app.add_option("--max-connections", max_connections,
                 "open connections at most; at the limit the connection idle longest is closed "
                 "to make room, and when all are busy new ones get 503")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}));
  app.add_option("--shutdown-grace", shutdown_grace,
                 "on SIGTERM/SIGINT, how long in-flight requests may take to finish")
      ->capture_default_str();
  app.add_option("--max-db-bytes", max_db_bytes,
                 "bound on the database file's in-use size (0 = none); uploaded events are "
                 "deleted first to stay under it")
      ->capture_default_str();
  app.add_option("--on-full", on_full,
                 "when the buffer is full: reject (503 + Retry-After) or drop-oldest (evict the "
                 "oldest un-uploaded events, counted in events_dropped)")
      ->capture_default_str()
      ->check(CLI::IsMember({"reject", "drop-oldest"}));
  app.add_option(
         "--sink", k.name,
         "where the uploader ships events: log, webhook, nats, mqtt, otlp; none = no uploader "
         "(the buffer only fills)")
      ->capture_default_str()
      ->check(CLI::IsMember({"log", "webhook", "nats", "mqtt", "otlp", "none"}));
  app.add_option("--upload-interval", upload_interval,
                 "time between upload cycles (back-to-back while full batches wait)")
      ->capture_default_str();
  app.add_option("--upload-batch", c.uploader.batch, "events per upload cycle")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100'000}));
  app.add_option("--retry-max-backoff", retry_max_backoff,
                 "cap of the exponential backoff (with jitter) between failed cycles")
      ->capture_default_str();
  app.add_option("--retain-uploaded", retain,
                 "keep uploaded events this long, then delete them (0 = at once)")
      ->capture_default_str();
  app.add_option("--drain-timeout", drain_timeout,
                 "on SIGTERM, how long the uploader may keep shipping the backlog")
      ->capture_default_str();
  app.add_option("--flaky-every", k.flaky_every,
                 "make every Nth upload cycle fail (demo/test of the retry path; 0 = off)")
      ->capture_default_str()
      ->check(kZeroOrMore);
  app.add_option("--webhook-url", k.webhook_url, "webhook sink: the URL batches are POSTed to");
  app.add_flag("--webhook-gzip", k.webhook_gzip, "webhook sink: gzip the request body");
  app.add_option("--webhook-timeout", webhook_timeout, "webhook sink: request timeout")
      ->capture_default_str();
  app.add_option("--webhook-authorization", k.webhook_authorization,
                 "webhook sink: Authorization header value (e.g. \"Bearer TOKEN\")");
  app.add_option("--nats-url", k.nats_url, "nats sink: server URL(s), comma-separated")
      ->capture_default_str();
  app.add_option("--nats-subject", k.nats_subject,
                 "nats sink: subject template (<device_id>, <kind>, <node_id>)")
      ->capture_default_str();
  app.add_option("--nats-stream", k.nats_stream, "nats sink: JetStream stream (created if missing)")
      ->capture_default_str();
  app.add_option("--nats-replicas", k.nats_replicas, "nats sink: replicas of a created stream")
      ->capture_default_str()
      ->check(CLI::Range(1, 5));
  app.add_option("--mqtt-url", k.mqtt_url, "mqtt sink: broker URL")->capture_default_str();
  app.add_option("--mqtt-topic", k.mqtt_topic,
                 "mqtt sink: topic template (<device_id>, <kind>, <node_id>)")
      ->capture_default_str();
  app.add_option("--sink-timeout", sink_timeout, "nats/mqtt sinks: how long to wait for acks")
      ->capture_default_str();
  app.add_option("--otlp-url", k.otlp_url,
                 "otlp sink: base URL of an OTLP/HTTP receiver (http://HOST:4318); /v1/logs and "
                 "/v1/metrics are appended");
  app.add_option("--otlp-encoding", k.otlp_encoding, "otlp sink: protobuf or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"protobuf", "json"}));
  app.add_flag("--otlp-gzip", k.otlp_gzip, "otlp sink: gzip the request bodies");
  app.add_option("--otlp-header", k.otlp_headers,
                 "otlp sink: an extra request header \"Name: value\" (repeatable)");
  app.add_option("--otlp-timeout", otlp_timeout, "otlp sink: request timeout")
      ->capture_default_str();
  app.add_option("--otlp-device-attrs", otlp_device_attrs,
                 "OTLP ingest: resource attributes tried in order for device_id (comma-separated)")
      ->capture_default_str();
  app.add_option("--auth-token-file", auth_token_file,
                 "require a bearer token from this file (one per line) for POST /events");
  app.add_option("--admin-token-file", admin_token_file,
                 "require a bearer token from this file for /stats and /metrics (/healthz stays "
                 "open)");
  app.add_option("--tls-cert", c.server.tls_cert,
                 "serve HTTPS: PEM certificate chain (with --tls-key)");
  app.add_option("--tls-key", c.server.tls_key, "serve HTTPS: PEM private key");
  std::string allowed_hosts;
  app.add_option("--allowed-hosts", allowed_hosts,
                 "comma-separated host names the Host header may name (others: 403); guards "
                 "against DNS rebinding when no token is set (default: any)");
  app.add_option("--mqtt-listen", mqtt_listen,
                 "MQTT ingest: serve MQTT 3.1.1/5.0 publishers on HOST:PORT (off by default)");
  app.add_option("--mqtts-listen", mqtts_listen,
                 "MQTT ingest over TLS on HOST:PORT (with --tls-cert/--tls-key)");
  app.add_option("--mqtt-listen-topic", c.mqtt_listen.topic_template,
                 "MQTT ingest: topic template that names device and kind (<device_id>, <kind>)")
      ->capture_default_str();
  app.add_option("--ready-file", c.ready_file,
                 "write the bound HOST:PORT to this file once listening (for scripts)");
  app.add_option("--log-level", c.log_level, "trace, debug, info, warn, error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

  auto usage_error = [&](const std::string& message) {
    out.error = message;
    if (!quiet) std::cerr << "cistern: " << message << " (see --help)\n";
    out.action = ParsedArgs::Action::kExit;
    out.exit_code = 2;
    return out;
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    out.action = ParsedArgs::Action::kExit;
    out.exit_code = 0;
    return out;
  } catch (const CLI::CallForVersion&) {
    std::cout << "cistern " CISTERN_VERSION "\n";
    out.action = ParsedArgs::Action::kExit;
    out.exit_code = 0;
    return out;
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  // Then the environment and the file fill what the command line left unset.
  if (config_file.empty()) {
    if (const char* env = std::getenv("CISTERN_CONFIG")) config_file = env;
  }
  const std::set<std::string> not_settable = {"help", "version", "config", "print-config"};
  ConfigOrigins origins;
  if (Status s = ApplyEnvAndFile(app, config_file, not_settable, &origins); !s.ok()) {
    return usage_error(s.message());
  }
  auto from = [&](const std::string& flag) { return origins.Describe(flag); };

  if (Status s = ParseAddr(addr, &c.server.host, &c.server.port); !s.ok()) {
    return usage_error(origins.where.count("addr") ? from("--addr") + ": " + s.message()
                                                   : s.message());
  }
  c.store.mode = ParseWriteMode(mode).value();  // CLI11 checked the name
  c.store.on_full = on_full == "drop-oldest" ? OnFull::kDropOldest : OnFull::kReject;
  if (k.name == "webhook" && k.webhook_url.empty()) {
    return usage_error(from("--sink") + " webhook needs --webhook-url");
  }
  if (k.name == "otlp" && k.otlp_url.empty()) {
    return usage_error(from("--sink") + " otlp needs --otlp-url");
  }
  c.router.otlp_decode.device_id_attributes.clear();
  for (size_t start = 0; start <= otlp_device_attrs.size();) {
    size_t comma = std::min(otlp_device_attrs.find(',', start), otlp_device_attrs.size());
    std::string name = otlp_device_attrs.substr(start, comma - start);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    if (!name.empty()) c.router.otlp_decode.device_id_attributes.push_back(name);
    start = comma + 1;
  }
  c.store.max_backlog = max_backlog;
  c.server.io_threads = io_threads;
  c.server.max_connections = max_connections;
  c.router.parse.max_events = max_events;

  auto size = [&](const std::string& flag, const std::string& text, size_t* dst) {
    auto v = ParseSize(text);
    if (!v.ok()) return Status::InvalidArgument(from(flag) + ": " + v.status().message());
    if (*v == 0) return Status::InvalidArgument(from(flag) + " must be greater than 0");
    *dst = static_cast<size_t>(*v);
    return Status::Ok();
  };
  auto duration = [&](const std::string& flag, const std::string& text,
                      std::chrono::milliseconds* dst) {
    auto v = ParseDuration(text);
    if (!v.ok()) return Status::InvalidArgument(from(flag) + ": " + v.status().message());
    if (v->count() == 0) return Status::InvalidArgument(from(flag) + " must be greater than 0");
    *dst = *v;
    return Status::Ok();
  };
  for (Status s : {size("--max-body-bytes", max_body, &c.router.max_body_bytes),
                   size("--max-payload-bytes", max_payload, &c.router.parse.max_payload_bytes),
                   duration("--header-timeout", header_timeout, &c.server.session.header_timeout),
                   duration("--body-timeout", body_timeout, &c.server.session.body_timeout),
                   duration("--shutdown-grace", shutdown_grace, &c.server.shutdown_grace)}) {
    if (!s.ok()) return usage_error(s.message());
  }
  auto zero_ok = [&](const std::string& flag, const std::string& text,
                     std::chrono::milliseconds* dst) {
    auto v = ParseDuration(text);
    if (!v.ok()) return Status::InvalidArgument(from(flag) + ": " + v.status().message());
    *dst = *v;
    return Status::Ok();
  };
  for (Status s : {duration("--upload-interval", upload_interval, &c.uploader.interval),
                   duration("--retry-max-backoff", retry_max_backoff, &c.uploader.max_backoff),
                   zero_ok("--retain-uploaded", retain, &c.store.retain_uploaded),
                   zero_ok("--drain-timeout", drain_timeout, &c.drain_timeout),
                   duration("--webhook-timeout", webhook_timeout, &k.webhook_timeout),
                   duration("--sink-timeout", sink_timeout, &k.sink_timeout),
                   duration("--otlp-timeout", otlp_timeout, &k.otlp_timeout)}) {
    if (!s.ok()) return usage_error(s.message());
  }
  c.uploader.initial_backoff = std::min(c.uploader.initial_backoff, c.uploader.max_backoff);
  for (auto [flag, file, dst] :
       {std::tuple{"--auth-token-file", &auth_token_file, &c.router.ingest_tokens},
        std::tuple{"--admin-token-file", &admin_token_file, &c.router.admin_tokens}}) {
    if (file->empty()) continue;
    auto tokens = ReadTokenFile(*file);
    if (!tokens.ok()) return usage_error(from(flag) + ": " + tokens.status().message());
    *dst = std::move(tokens.value());
  }
  for (size_t start = 0; start < allowed_hosts.size();) {
    size_t comma = allowed_hosts.find(',', start);
    if (comma == std::string::npos) comma = allowed_hosts.size();
    std::string h = allowed_hosts.substr(start, comma - start);
    h.erase(0, h.find_first_not_of(' '));
    h.erase(h.find_last_not_of(' ') + 1);
    std::transform(h.begin(), h.end(), h.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    if (h.empty() || h.find_first_of(":/") != std::string::npos) {
      if (!(h.size() > 2 && h.front() == '[' && h.back() == ']')) {
        return usage_error(from("--allowed-hosts") + ": '" + h +
                           "' is not a host name (no port, no scheme; [::1] for IPv6)");
      }
    }
    c.router.allowed_hosts.push_back(h);
    start = comma + 1;
  }
  if (c.server.tls_cert.empty() != c.server.tls_key.empty()) {
    return usage_error(c.server.tls_cert.empty() ? from("--tls-key") + " needs --tls-cert"
                                                 : from("--tls-cert") + " needs --tls-key");
  }
  if (auto v = ParseSize(max_db_bytes); v.ok()) {
    c.store.max_db_bytes = *v;
  } else {
    return usage_error(from("--max-db-bytes") + ": " + v.status().message());
  }
  if (c.store.max_db_bytes > 0 &&
      static_cast<int64_t>(c.store.max_db_bytes) < MinDbBytes(c.store.indexed)) {
    return usage_error(from("--max-db-bytes") + " " + FormatSize(c.store.max_db_bytes) +
                       " is too small for the schema: at least " +
                       FormatSize(MinDbBytes(c.store.indexed)) + " (" +
                       std::to_string(MinDbBytes(c.store.indexed)) + " bytes)");
  }
  c.server.session.max_body_bytes = c.router.max_body_bytes;
  c.server.session.write_timeout = c.server.session.body_timeout;
  mqtt::ListenerOptions& m = c.mqtt_listen;
  for (auto [flag, text, host, port, on] :
       {std::tuple{"--mqtt-listen", &mqtt_listen, &m.host, &m.port, &m.plain},
        std::tuple{"--mqtts-listen", &mqtts_listen, &m.tls_host, &m.tls_port, &m.tls}}) {
    if (text->empty()) continue;
    if (Status s = ParseAddr(*text, host, port); !s.ok()) {
      return usage_error(from(flag) + ": " + s.message());
    }
    *on = true;
  }
  if (m.tls && (c.server.tls_cert.empty() || c.server.tls_key.empty())) {
    return usage_error(from("--mqtts-listen") + " needs --tls-cert and --tls-key");
  }
  m.tls_cert = c.server.tls_cert;
  m.tls_key = c.server.tls_key;
  m.tokens = c.router.ingest_tokens;
  m.maximum_packet_size =
      static_cast<uint32_t>(std::min<size_t>(c.router.max_body_bytes, mqtt::kMaxPacketSize));
  m.parse = c.router.parse;
  m.connect_timeout = c.server.session.header_timeout;
  m.write_timeout = c.server.session.write_timeout;
  m.max_connections = c.server.max_connections;
  // The sink's own checks (URL scheme, subject template, headers...) before anything touches
  // the disk, with --print-config too: building one opens no connection (sink_factory.h).
  if (c.sink.name != "none") {
    if (auto sink = MakeSink(c.sink, "config-check"); !sink.ok()) {
      return usage_error("--sink " + c.sink.name + ": " + sink.status().message());
    }
  }
  if (print_config) {
    std::cout << RenderConfig(app, not_settable, {"webhook-authorization", "otlp-header"}, origins,
                              InEffect(c));
    out.action = ParsedArgs::Action::kExit;
    out.exit_code = 0;
  }
  return out;
}

}  // namespace cistern
