#include "app/config.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <iostream>
#include <thread>

#include "common/duration.h"

namespace cistern {

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
  unsigned value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc() || end != p.data() + p.size() || value > 65535) return bad();
  *host = h;
  *port = static_cast<uint16_t>(value);
  return Status::Ok();
}

ParsedArgs ParseArgs(int argc, char** argv) {
  ParsedArgs out;
  Config& c = out.config;
  CLI::App app{
      "cistern: an edge event collector. Devices POST events over HTTP; each is stored durably\n"
      "in a local SQLite file (WAL, fsync) before the answer, and shipped upstream later."};
  app.get_formatter()->column_width(34);

  std::string addr = "127.0.0.1:8080";
  std::string mode = "group";
  std::string max_body = "1MiB", max_payload = "64KiB";
  std::string header_timeout = "30s", body_timeout = "30s", shutdown_grace = "10s";
  int64_t max_backlog = c.store.max_backlog;
  // The writer thread wants a core of its own: io threads take the rest (at least one).
  int io_threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 2u, 9u) - 1);
  size_t max_events = c.router.parse.max_events;
  size_t max_connections = c.server.max_connections;

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
      ->check(CLI::NonNegativeNumber);
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
                 "open connections at most; more are answered 503 and closed")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}));
  app.add_option("--shutdown-grace", shutdown_grace,
                 "on SIGTERM/SIGINT, how long in-flight requests may take to finish")
      ->capture_default_str();
  app.add_option("--ready-file", c.ready_file,
                 "write the bound HOST:PORT to this file once listening (for scripts)");
  app.add_option("--log-level", c.log_level, "trace, debug, info, warn, error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

  auto usage_error = [&](const std::string& message) {
    std::cerr << "cistern: " << message << " (see --help)\n";
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
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }

  if (Status s = ParseAddr(addr, &c.server.host, &c.server.port); !s.ok()) {
    return usage_error(s.message());
  }
  c.store.mode = ParseWriteMode(mode).value();  // CLI11 checked the name
  c.store.max_backlog = max_backlog;
  c.server.io_threads = io_threads;
  c.server.max_connections = max_connections;
  c.router.parse.max_events = max_events;

  auto size = [&](const std::string& flag, const std::string& text, size_t* dst) {
    auto v = ParseSize(text);
    if (!v.ok()) return Status::InvalidArgument(flag + ": " + v.status().message());
    if (*v == 0) return Status::InvalidArgument(flag + " must be greater than 0");
    *dst = static_cast<size_t>(*v);
    return Status::Ok();
  };
  auto duration = [&](const std::string& flag, const std::string& text,
                      std::chrono::milliseconds* dst) {
    auto v = ParseDuration(text);
    if (!v.ok()) return Status::InvalidArgument(flag + ": " + v.status().message());
    if (v->count() == 0) return Status::InvalidArgument(flag + " must be greater than 0");
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
  c.server.session.max_body_bytes = c.router.max_body_bytes;
  c.server.session.write_timeout = c.server.session.body_timeout;
  return out;
}

}  // namespace cistern
