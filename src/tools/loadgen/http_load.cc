#include "tools/loadgen/http_load.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fstream>
#include <optional>
#include <ostream>
#include <vector>

#include "common/json_writer.h"
#include "tools/loadgen/http_checks.h"
#include "tools/loadgen/http_events.h"
#include "tools/loadgen/http_worker.h"

namespace cistern::loadgen {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::milliseconds kProbeTimeout{5000};

// Everything the report shows, gathered once so the text and the JSON say the same.
struct Outcome {
  LoadTotals totals;
  StatsProbe before;
  StatsProbe after;
  bool stats_ok = false;
  int64_t duplicates = 0;  // ids acknowledged more than once
  std::optional<DbCheck> db;
  std::vector<std::string> problems;  // empty = OK
};

double Ms(uint64_t us) { return static_cast<double>(us) / 1000.0; }

double PerSecond(int64_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
}

std::string ReasonList(const std::map<std::string, int64_t>& reasons) {
  std::string s;
  for (const auto& [reason, n] : reasons)
    s += fmt::format("{}{}: {}", s.empty() ? "" : ", ", reason, n);
  return s;
}

std::string Summary(const Outcome& o) {
  if (o.problems.empty()) return "OK: no writes dropped";
  std::string s = "FAIL: ";
  for (size_t i = 0; i < o.problems.size(); ++i) s += (i ? "; " : "") + o.problems[i];
  return s;
}

std::string StatsLine(const Outcome& o) {
  if (!o.after.ok) return "FAILED: after the run, " + o.after.error;
  return fmt::format("{}: events_written {} -> {} (+{} {} {} accepted)",
                     o.stats_ok ? "ok" : "FAILED", o.before.events_written, o.after.events_written,
                     o.after.events_written - o.before.events_written, o.stats_ok ? ">=" : "<",
                     o.totals.events_accepted);
}

std::string DbLine(const Outcome& o, const std::string& path) {
  if (!o.db) return "skipped (no --verify-db)";
  if (!o.db->error.empty()) return "FAILED: " + o.db->error;
  if (o.db->ok) {
    return fmt::format("ok: all {} acknowledged ids present in {}", o.db->checked, path);
  }
  return fmt::format("FAILED: {} of {} acknowledged ids missing from {} (first: {})", o.db->missing,
                     o.db->checked, path, o.db->first_missing);
}

void PrintReport(const HttpLoadOptions& opt, const Outcome& o, std::ostream& out) {
  const LoadTotals& t = o.totals;
  std::string rate =
      opt.rate > 0 ? fmt::format("at most {:g} requests/s", opt.rate) : "no rate cap";
  out << fmt::format("target            {} ({} workers, batch {}, {} devices, {})\n", opt.target,
                     opt.workers, opt.batch, opt.devices, rate);
  out << fmt::format("duration          {:.3f} s\n", t.elapsed_s);
  out << fmt::format("requests ok       {}\n", t.requests_ok);
  out << fmt::format("events accepted   {}\n", t.events_accepted);
  out << fmt::format("events/s          {:.0f}\n", PerSecond(t.events_accepted, t.elapsed_s));
  out << fmt::format("requests/s        {:.0f}\n", PerSecond(t.requests_ok, t.elapsed_s));
  out << fmt::format(
      "503 backpressure  {} (retried after Retry-After; {} still waiting at the end)\n",
      t.backpressure, t.abandoned_after_503);
  out << fmt::format("failures          {}", t.failures);
  if (t.failures > 0)
    out << fmt::format(" ({}; {} events)", ReasonList(t.failures_by_reason), t.failed_events);
  out << "\n";
  for (const std::string& e : t.first_errors) out << "  e.g.            " << e << "\n";
  const FineHistogram& h = t.latency;
  out << fmt::format(
      "latency ms        p50 {:.3f}  p90 {:.3f}  p99 {:.3f}  max {:.3f}  ({} answers)\n",
      Ms(h.QuantileUs(0.50)), Ms(h.QuantileUs(0.90)), Ms(h.QuantileUs(0.99)), Ms(h.max_us()),
      h.count());
  out << "stats check       " << StatsLine(o) << "\n";
  if (o.duplicates > 0) out << fmt::format("duplicate ids     {}\n", o.duplicates);
  out << "db check          " << DbLine(o, opt.verify_db) << "\n";
  out << Summary(o) << "\n";
}

std::string ReportJson(const HttpLoadOptions& opt, const Outcome& o) {
  const LoadTotals& t = o.totals;
  JsonWriter w;
  auto int_field = [&](const char* k, int64_t v) {
    w.Key(k);
    w.Int(v);
  };
  auto double_field = [&](const char* k, double v) {
    w.Key(k);
    w.Double(v);
  };
  w.BeginObject();
  w.Key("target");
  w.String(opt.target);
  int_field("workers", opt.workers);
  int_field("batch", opt.batch);
  int_field("devices", opt.devices);
  double_field("rate", opt.rate);
  double_field("duration_s", t.elapsed_s);
  int_field("requests_ok", t.requests_ok);
  int_field("events_accepted", t.events_accepted);
  double_field("events_per_s", PerSecond(t.events_accepted, t.elapsed_s));
  double_field("requests_per_s", PerSecond(t.requests_ok, t.elapsed_s));
  int_field("backpressure_503", t.backpressure);
  int_field("abandoned_after_503", t.abandoned_after_503);
  int_field("failures", t.failures);
  int_field("failed_events", t.failed_events);
  w.Key("failures_by_reason");
  w.BeginObject();
  for (const auto& [reason, n] : t.failures_by_reason) int_field(reason.c_str(), n);
  w.EndObject();
  w.Key("first_errors");
  w.BeginArray();
  for (const std::string& e : t.first_errors) w.String(e);
  w.EndArray();
  w.Key("latency_ms");
  w.BeginObject();
  int_field("count", static_cast<int64_t>(t.latency.count()));
  double_field("p50", Ms(t.latency.QuantileUs(0.50)));
  double_field("p90", Ms(t.latency.QuantileUs(0.90)));
  double_field("p99", Ms(t.latency.QuantileUs(0.99)));
  double_field("max", Ms(t.latency.max_us()));
  w.EndObject();
  w.Key("stats_check");
  w.BeginObject();
  w.Key("ok");
  w.Bool(o.stats_ok);
  int_field("events_written_before", o.before.events_written);
  int_field("events_written_after", o.after.events_written);
  w.Key("error");
  w.String(o.after.error);
  w.EndObject();
  int_field("duplicate_ids", o.duplicates);
  w.Key("db_check");
  if (!o.db) {
    w.Null();
  } else {
    w.BeginObject();
    w.Key("ok");
    w.Bool(o.db->ok);
    w.Key("db");
    w.String(opt.verify_db);
    int_field("checked", o.db->checked);
    int_field("missing", o.db->missing);
    int_field("first_missing", o.db->first_missing);
    w.Key("error");
    w.String(o.db->error);
    w.EndObject();
  }
  w.Key("ok");
  w.Bool(o.problems.empty());
  w.Key("summary");
  w.String(Summary(o));
  w.EndObject();
  return w.Take();
}

// Sorts the ids and drops duplicates; returns how many were dropped.
int64_t SortUnique(std::vector<int64_t>* ids) {
  std::sort(ids->begin(), ids->end());
  auto end = std::unique(ids->begin(), ids->end());
  auto dups = static_cast<int64_t>(ids->end() - end);
  ids->erase(end, ids->end());
  return dups;
}

std::string ValidateOptions(const HttpLoadOptions& o) {
  if ((!o.cacert.empty() || o.insecure) && !o.target.starts_with("https://")) {
    return "--cacert and --insecure are for an https:// --target";
  }
  if (!o.cacert.empty() && o.insecure) return "--cacert and --insecure exclude each other";
  if (o.workers < 1) return "--workers must be at least 1";
  if (o.devices < 1) return "--devices must be at least 1";
  if (o.batch < 1) return "--batch must be at least 1";
  if (o.duration.count() <= 0) return "--duration must be positive";
  if (!(o.rate >= 0)) return "--rate must be 0 (no cap) or positive";
  return "";
}

}  // namespace

int RunHttpLoad(const HttpLoadOptions& options, std::ostream& out, std::ostream& err) {
  HttpTarget target;
  std::string error = ValidateOptions(options);
  if (error.empty()) ParseHttpTarget(options.target, &target, &error);
  if (!error.empty()) {
    err << "cistern-loadgen: " << error << "\n";
    return 2;
  }
  std::ofstream json;
  if (!options.json_file.empty()) {
    json.open(options.json_file, std::ios::out | std::ios::trunc);
    if (!json) {
      err << "cistern-loadgen: cannot write --json " << options.json_file << "\n";
      return 2;
    }
  }

  LoadSetup setup;
  HttpConn& conn = setup.conn;
  {
    asio::io_context ioc(1);
    tcp::resolver resolver(ioc);
    boost::system::error_code ec;
    auto results = resolver.resolve(target.host, std::to_string(target.port), ec);
    if (ec) {
      err << "cistern-loadgen: cannot resolve " << target.host << ": " << ec.message() << "\n";
      return 2;
    }
    for (const auto& r : results) conn.endpoints.push_back(r.endpoint());
  }
  const bool v6 = target.host.find(':') != std::string::npos;
  conn.host_header = fmt::format(fmt::runtime(v6 ? "[{}]:{}" : "{}:{}"), target.host, target.port);
  if (target.tls) {
    auto tls = MakeClientTls(options.cacert, options.insecure, target.host);
    if (!tls.ok()) {
      err << "cistern-loadgen: " << tls.status().message() << "\n";
      return 2;
    }
    conn.tls = std::move(tls.value());
    conn.server_name = target.host;
  }
  if (!options.token.empty()) conn.authorization = "Bearer " + options.token;
  const std::string& admin = options.admin_token.empty() ? options.token : options.admin_token;
  if (!admin.empty()) conn.admin_authorization = "Bearer " + admin;
  setup.workers = options.workers;
  setup.devices = options.devices;
  setup.batch = options.batch;
  setup.otlp = options.otlp;
  setup.rate = options.rate;
  setup.duration = options.duration;

  Outcome o;
  o.before = FetchEventsWritten(conn, kProbeTimeout);
  if (!o.before.ok) {
    err << "cistern-loadgen: " << options.target << " is not a reachable cistern collector ("
        << o.before.error << ")\n";
    return 2;
  }

  std::function<void(const LoadTotals&, double)> on_tick;
  int64_t last_events = 0;
  double last_s = 0;
  if (options.progress) {
    on_tick = [&](const LoadTotals& t, double s) {
      double rate = PerSecond(t.events_accepted - last_events, s - last_s);
      last_events = t.events_accepted;
      last_s = s;
      err << fmt::format("\r{:6.1f} s  {:>9.0f} events/s  503s {}  failures {}   ", s, rate,
                         t.backpressure, t.failures)
          << std::flush;
    };
  }
  o.totals = RunWorkers(setup, on_tick);
  if (options.progress) err << "\n";

  LoadTotals& t = o.totals;
  if (t.failures > 0) {
    o.problems.push_back(
        fmt::format("{} writes dropped ({})", t.failures, ReasonList(t.failures_by_reason)));
  }
  std::vector<int64_t> ids = std::move(t.ids);
  t.ids = {};
  o.duplicates = SortUnique(&ids);
  if (o.duplicates > 0) {
    o.problems.push_back(fmt::format("{} ids acknowledged more than once", o.duplicates));
  }
  o.after = FetchEventsWritten(conn, kProbeTimeout);
  o.stats_ok = o.after.ok && o.after.events_written - o.before.events_written >= t.events_accepted;
  if (!o.stats_ok) o.problems.push_back("stats check " + StatsLine(o));
  if (!options.verify_db.empty()) {
    o.db = VerifyIdsInDb(options.verify_db, ids);
    if (!o.db->ok) o.problems.push_back("db check " + DbLine(o, options.verify_db));
  }

  PrintReport(options, o, out);
  int code = o.problems.empty() ? 0 : 1;
  if (json.is_open()) {
    json << ReportJson(options, o) << "\n";
    json.flush();
    if (!json) {
      err << "cistern-loadgen: writing --json " << options.json_file << " failed\n";
      code = std::max(code, 2);
    }
  }
  return code;
}

}  // namespace cistern::loadgen
