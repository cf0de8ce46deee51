// Config: the daemon's flags (CLI11), CISTERN_* environment variables and a TOML file
// (--config; see app/config_sources.h) -> one typed struct. docs/configuration.md conventions:
// kebab-case long flags, durations as 500ms/1s/24h, sizes as 64KiB/1MiB or bytes; precedence
// flag > env > file > default.
// Reads environ and the config file and prints --help/--print-config; call from main only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "ingest/mqtt/listener_options.h"
#include "ingest/router_options.h"
#include "ingest/server_options.h"
#include "store/store.h"
#include "uploader/uploader.h"

namespace cistern {

// Which sink, and every sink's settings (only the chosen one's are used).
struct SinkConfig {
  std::string name = "log";  // log | webhook | nats | mqtt | otlp
  int flaky_every = 0;       // > 0: wrap the sink to fail every Nth cycle
  std::string webhook_url;
  bool webhook_gzip = false;
  std::chrono::milliseconds webhook_timeout{10'000};
  std::string webhook_authorization;  // full Authorization header value
  std::string nats_url = "nats://127.0.0.1:4222";
  std::string nats_subject = "cistern.events.<device_id>";
  std::string nats_stream = "CISTERN";
  int nats_replicas = 1;
  std::string mqtt_url = "mqtt://127.0.0.1:1883";
  std::string mqtt_topic = "cistern/<device_id>/<kind>";
  std::chrono::milliseconds sink_timeout{10'000};  // nats and mqtt ack wait
  std::string otlp_url;                    // base URL; /v1/logs and /v1/metrics are appended
  std::string otlp_encoding = "protobuf";  // protobuf | json
  bool otlp_gzip = false;
  std::vector<std::string> otlp_headers;  // "Name: value" lines
  std::chrono::milliseconds otlp_timeout{10'000};

  bool operator==(const SinkConfig&) const = default;
};

struct Config {
  StoreOptions store;
  RouterOptions router;
  ServerOptions server;
  UploaderOptions uploader;
  SinkConfig sink;
  mqtt::ListenerOptions mqtt_listen;  // MQTT ingest (docs/mqtt.md); off unless plain or tls
  std::chrono::milliseconds drain_timeout{5'000};
  std::string ready_file;  // written with host:port once listening ("" = none)
  std::string log_level = "info";
};

struct ParsedArgs {
  enum class Action { kRun, kExit } action = Action::kRun;
  int exit_code = 0;  // for kExit: 0 after --help, 2 after a usage error (already printed)
  Config config;
  std::string error;  // the usage error, "<where>: <what is wrong>" (kExit with code 2)
};

// Parses argv, then the environment and the config file. Usage errors (from any source) print
// one line "cistern: <where>: <what is wrong>" to stderr and return kExit with code 2;
// --help prints the help and --print-config the effective configuration, both kExit code 0.
// `quiet` (a SIGHUP reload, docs/configuration.md "Reload"): a usage error is only returned in
// `error`, nothing is printed.
ParsedArgs ParseArgs(int argc, char** argv, bool quiet = false);

// "127.0.0.1:8080", "[::1]:8080" -> host, port; ":8080" (empty host) = every interface.
Status ParseAddr(const std::string& text, std::string* host, uint16_t* port);

}  // namespace cistern
