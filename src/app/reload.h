// Reloader: the SIGHUP reload (docs/configuration.md "Reload"). The config file and the
// environment are parsed again exactly as at start-up (ParseArgs); on a usage error the
// running configuration stays, one log line names the error, and /metrics counts it. A good
// parse is compared with the configuration in effect, setting by setting:
//  - live settings are applied at once: --log-level; the ingest tokens (token files are read
//    again) for HTTP requests and for new MQTT CONNECTs, the admin tokens, --allowed-hosts,
//    --max-batch-events and --max-payload-bytes (for HTTP requests and MQTT PUBLISHes that
//    arrive from now on); the uploader's --upload-interval, --upload-batch and
//    --retry-max-backoff (from its next cycle); the buffer's --max-backlog, --max-db-bytes,
//    --on-full and --retain-uploaded; --drain-timeout; the sink and every one of its
//    settings (the new sink is built here, then the uploader switches to it after the batch in
//    flight, see uploader/uploader.h);
//  - every other setting (db, addr, mode, indexed, io-threads, TLS files, body limits and
//    timeouts, the MQTT listen addresses and topic template, --otlp-device-attrs, switching
//    to or from --sink none, ...) is logged as needing a restart and keeps its running value.
// A new sink that cannot be built (a bad URL, ...) fails the whole reload: nothing at all is
// applied, exactly as for a file that does not parse, and the old sink keeps shipping.
// Connections are never closed and requests in flight finish under the options they started
// with; MQTT connections keep the authorization their CONNECT was given.
//
// Thread-safety: not thread-safe; Reload runs on main's signal strand only. The components
// it updates (Router, Uploader, Store, MqttListener) are themselves safe to update while they
// run.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "app/config.h"
#include "common/config_reloads.h"

namespace cistern {

class Router;
class Uploader;
class Store;
namespace mqtt {
class MqttListener;
}

struct ReloadOutcome {
  bool ok = false;
  std::string error;                 // !ok: the parse or sink error (the running config stays)
  std::vector<std::string> applied;  // "max-backlog 100 -> 200"
  std::vector<std::string> restart;  // names of changed settings that need a restart
};

// What a reload applies: the live settings of `next` over `running`, the rest kept from
// `running`. Pure; `applied`/`restart` name what changed.
Config MergeLive(const Config& running, const Config& next, ReloadOutcome* outcome);

class Reloader {
 public:
  // `uploader` may be null (--sink none), `mqtt` too (no MQTT listener). All must outlive
  // the reloader.
  Reloader(Config running, Router& router, Store& store, Uploader* uploader,
           mqtt::MqttListener* mqtt);

  // Parses (through `parse`, i.e. ParseArgs in quiet mode), applies, logs one summary line
  // (and one line for settings that need a restart), and updates the router's
  // ConfigReloads figures.
  ReloadOutcome Reload(const std::function<ParsedArgs()>& parse);

  const Config& running() const { return running_; }

 private:
  Config running_;
  Router& router_;
  Store& store_;
  Uploader* const uploader_;
  mqtt::MqttListener* const mqtt_;
};

}  // namespace cistern
