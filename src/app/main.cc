// cistern: wiring, signals and ordered shutdown. Everything else lives in the layers.
#include <fmt/ranges.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>

#include "app/config.h"
#include "app/reload.h"
#include "app/sink_factory.h"
#include "app/systemd_notify.h"
#include "ingest/mqtt/listener.h"
#include "ingest/router.h"
#include "ingest/server.h"
#include "store/registry.h"

namespace {

// Writes "host:port\n" atomically (temp file + rename) so a reader never sees half of it.
bool WriteReadyFile(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    if (!(f << text << '\n')) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cistern;
  // A peer that goes away must be an error code on its socket, never a process-killing
  // signal (Asio and curl avoid it themselves; libmosquitto would set this anyway).
  std::signal(SIGPIPE, SIG_IGN);
  ParsedArgs args = ParseArgs(argc, argv);
  if (args.action == ParsedArgs::Action::kExit) return args.exit_code;
  Config& config = args.config;

  auto logger = spdlog::stderr_color_mt("cistern");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(config.log_level));

  StoreRegistry registry;
  auto store = registry.Open(config.store);
  if (!store.ok()) {
    // One line, once (stderr is the journal under systemd).
    std::fprintf(stderr, "cistern: cannot open %s: %s\n", config.store.path.c_str(),
                 store.status().message().c_str());
    return 1;
  }

  // The uploader drains the buffer upstream (--sink none: store only, nothing drains it).
  std::unique_ptr<Uploader> uploader;
  if (config.sink.name != "none") {
    auto sink = MakeSink(config.sink, (*store)->Stats().node_id);
    if (!sink.ok()) {
      std::fprintf(stderr, "cistern: --sink %s: %s\n", config.sink.name.c_str(),
                   sink.status().message().c_str());
      (*store)->Close();
      return 2;
    }
    uploader = std::make_unique<Uploader>(*store, std::move(sink.value()), config.uploader);
    if (Status s = uploader->Start(); !s.ok()) {
      std::fprintf(stderr, "cistern: cannot start the uploader: %s\n", s.message().c_str());
      (*store)->Close();
      return 1;
    }
  }

  Router router(*store, config.router, uploader.get());
  Server server(config.server, router);
  auto endpoint = server.Listen();
  if (!endpoint.ok()) {
    std::fprintf(stderr, "cistern: %s\n", endpoint.status().message().c_str());
    if (uploader) uploader->Stop(std::chrono::milliseconds(0));
    (*store)->Close();
    return 1;
  }
  std::string bound =
      endpoint->address().is_v6()
          ? fmt::format("[{}]:{}", endpoint->address().to_string(), endpoint->port())
          : fmt::format("{}:{}", endpoint->address().to_string(), endpoint->port());
  const bool tls = !config.server.tls_cert.empty();
  spdlog::info("listening on {}://{} (db={}, mode={}, io-threads={}, max-backlog={})",
               tls ? "https" : "http", bound, config.store.path, WriteModeName(config.store.mode),
               config.server.io_threads, config.store.max_backlog);
  // Say what is guarded: an operator must see at once that ingest or admin is open
  // (docs/security.md).
  auto guard = [](const std::vector<std::string>& tokens) {
    return tokens.empty() ? std::string("OFF (open to anyone who can connect)")
                          : fmt::format("on ({} token(s))", tokens.size());
  };
  spdlog::info("auth: ingest {}; admin {}; allowed hosts: {}", guard(config.router.ingest_tokens),
               guard(config.router.admin_tokens),
               config.router.allowed_hosts.empty()
                   ? std::string("any")
                   : fmt::format("{}", fmt::join(config.router.allowed_hosts, ",")));
  if (!endpoint->address().is_loopback() &&
      (config.router.ingest_tokens.empty() || config.router.admin_tokens.empty())) {
    spdlog::warn("listening beyond loopback with {} open: anyone who reaches {} can {}",
                 config.router.ingest_tokens.empty() ? "ingest" : "admin", bound,
                 config.router.ingest_tokens.empty() ? "store events" : "read /stats");
  }
  // MQTT ingest (docs/mqtt.md): on the same io threads, before the ready file says "up".
  std::unique_ptr<mqtt::MqttListener> mqtt_listener;
  if (config.mqtt_listen.plain || config.mqtt_listen.tls) {
    mqtt_listener = std::make_unique<mqtt::MqttListener>(*store, config.mqtt_listen, server);
    if (Status s = mqtt_listener->Listen(); !s.ok()) {
      std::fprintf(stderr, "cistern: %s\n", s.message().c_str());
      if (uploader) uploader->Stop(std::chrono::milliseconds(0));
      (*store)->Close();
      return s.code() == Status::Code::kInvalidArgument ? 2 : 1;
    }
    for (auto [scheme, on, ep] :
         {std::tuple{"mqtt", config.mqtt_listen.plain, mqtt_listener->plain_endpoint()},
          std::tuple{"mqtts", config.mqtt_listen.tls, mqtt_listener->tls_endpoint()}}) {
      if (on) spdlog::info("listening on {}://{}:{}", scheme, ep.address().to_string(), ep.port());
    }
    router.set_mqtt(mqtt_listener->counters());
  }
  Reloader reloader(config, router, **store, uploader.get(), mqtt_listener.get());

  // systemd (Type=notify): READY below, then STATUS lines and watchdog pings from a timer on
  // one strand with the signal handler (which cancels it), until shutdown begins.
  SystemdNotifier notifier;
  auto summary = [&] {
    StoreStats st = (*store)->Stats();
    return fmt::format("listening on {}; backlog {}; uploader {}", bound, st.backlog,
                       uploader ? uploader->State() : "none");
  };
  auto strand = boost::asio::make_strand(server.context());
  boost::asio::steady_timer notify_timer(strand);
  std::function<void()> arm_notify = [&] {
    auto tick =
        notifier.watchdog_tick().count() > 0
            ? std::chrono::duration_cast<std::chrono::milliseconds>(notifier.watchdog_tick())
            : std::chrono::milliseconds(10'000);
    notify_timer.expires_after(tick);
    notify_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (notifier.watchdog_tick().count() > 0) {
        StoreStats st = (*store)->Stats();
        notifier.WatchdogTick(st.queue_depth, st.commits + st.commit_failures);
      }
      notifier.Status(summary());
      arm_notify();
    });
  };
  if (notifier.enabled()) arm_notify();

  // SIGHUP: parse the file and environment again and apply what can change live
  // (docs/configuration.md "Reload"); on the strand, so never during shutdown's first step.
  boost::asio::signal_set hangup(strand, SIGHUP);
  std::function<void()> arm_hangup = [&] {
    hangup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      notifier.Reloading();
      reloader.Reload([&] { return ParseArgs(argc, argv, /*quiet=*/true); });
      notifier.Ready(summary());
      arm_hangup();
    });
  };
  arm_hangup();

  boost::asio::signal_set signals(strand, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    notifier.Stopping();
    notify_timer.cancel();
    hangup.cancel();
    if (mqtt_listener) mqtt_listener->Stop();
    server.Stop();
  });

  // Ready only now that SIGHUP/SIGTERM are handled: a reload sent at once cannot kill us.
  if (!config.ready_file.empty() && !WriteReadyFile(config.ready_file, bound)) {
    spdlog::error("cannot write --ready-file {}", config.ready_file);
  }
  notifier.Ready(summary());
  server.Run();  // returns once the listener is closed and every connection is done
  // Ordered shutdown: no more ingest; a bounded final drain upstream; then the file.
  if (uploader) uploader->Stop(reloader.running().drain_timeout);
  (*store)->Close();
  spdlog::info("stopped cleanly");
  return 0;
}
