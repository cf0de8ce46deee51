// cistern-loadgen: HTTP load that fails when any acknowledged write is dropped, and the
// reference collector's in-process experiments (--bench, --contention, --disjoint).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "common/duration.h"
#include "common/secrets.h"
#include "tools/loadgen/experiments.h"
#include "tools/loadgen/http_load.h"
#include "tools/loadgen/mqtt_load.h"

using namespace cistern;
using namespace cistern::loadgen;

namespace {

int UsageError(const std::string& message) {
  std::cerr << "cistern-loadgen: " << message << " (see --help)\n";
  return 2;
}

int RunExperiments(bool bench, bool contention, bool disjoint, const ExperimentOptions& o,
                   const std::string& json_file) {
  std::vector<BenchRow> b;
  std::vector<ContentionRow> c;
  std::vector<DisjointRow> d;
  auto fail = [](const Status& s) {
    std::cerr << "cistern-loadgen: experiment failed: " << s.message() << "\n";
    return 1;
  };
  std::cout << "workers " << o.workers << ", " << FormatDuration(o.duration)
            << " per cell, a fresh database per cell\n\n";
  if (bench) {
    auto r = RunBench(o);
    if (!r.ok()) return fail(r.status());
    b = r.value();
    std::cout << "### --bench: insert throughput (single events, one commit wait each)\n\n"
              << BenchTable(b) << "\n";
  }
  if (contention) {
    auto r = RunContention(o);
    if (!r.ok()) return fail(r.status());
    c = r.value();
    std::cout << "### --contention: insert latency under a concurrent checkpoint writer\n\n"
              << ContentionTable(c) << "\n";
  }
  if (disjoint) {
    auto r = RunDisjoint(o);
    if (!r.ok()) return fail(r.status());
    d = r.value();
    std::cout << "### --disjoint: disjoint-row 20-statement transactions\n\n"
              << DisjointTable(d) << "\n";
  }
  if (!json_file.empty()) {
    std::ofstream f(json_file, std::ios::trunc);
    f << ExperimentsJson(bench ? &b : nullptr, contention ? &c : nullptr, disjoint ? &d : nullptr)
      << "\n";
    if (!f) {
      std::cerr << "cistern-loadgen: cannot write " << json_file << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "cistern-loadgen: proves Cistern's promises under load.\n"
      "HTTP load (default): --target URL (http:// or https://, --token for a guarded "
      "collector); exits non-zero when any acknowledged write was dropped.\nExperiments "
      "(in-process, no HTTP): --bench, --contention, --disjoint."};
  app.get_formatter()->column_width(30);
  HttpLoadOptions http;
  ExperimentOptions exp;
  std::string duration = "10s";
  std::string modes = "group,serialized,concurrent";
  bool bench = false, contention = false, disjoint = false;
  std::string json_file;

  app.add_option("--target", http.target, "collector base URL (HTTP load)")->capture_default_str();
  app.add_option("--workers", http.workers, "concurrent producers")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000));
  app.add_option("--duration", duration, "how long to run (per cell for experiments)")
      ->capture_default_str();
  app.add_option("--devices", http.devices, "distinct device ids")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--batch", http.batch, "events per request (1 = single-event POSTs)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000));
  app.add_option("--rate", http.rate, "cap on total requests/s (0 = no cap)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  std::string token_file;
  app.add_option("--token", http.token,
                 "HTTP load: bearer token sent on the POSTs (Authorization: Bearer; the "
                 "collector's --auth-token-file); --token-file keeps it out of ps");
  app.add_option("--token-file", token_file, "HTTP load: read --token from this file")
      ->excludes("--token");
  app.add_option("--admin-token", http.admin_token,
                 "HTTP load: bearer token for the GET /stats check (default: --token)");
  app.add_option("--cacert", http.cacert,
                 "https:// target: verify the collector's certificate against this PEM file "
                 "(default: the system CAs)");
  app.add_flag("--insecure", http.insecure,
               "https:// target: do not verify the certificate (testing only)");
  app.add_option("--verify-db", http.verify_db,
                 "after the load, check in this SQLite file that every acknowledged id is stored");
  app.add_flag("--otlp", http.otlp,
               "HTTP load over OTLP: POST /v1/logs, protobuf, --batch log records per request");
  app.add_flag("--bench", bench, "experiment: insert throughput per mode x indexed");
  app.add_flag("--contention", contention,
               "experiment: insert latency under a concurrent checkpoint writer, per mode");
  app.add_flag("--disjoint", disjoint,
               "experiment: disjoint-row batched update transactions, per mode");
  app.add_option("--modes", modes, "experiments: comma-separated write modes")
      ->capture_default_str();
  app.add_option("--dir", exp.dir, "experiments: where the fresh databases go (default: temp)");
  MqttLoadOptions mqtt;
  app.add_option("--mqtt", mqtt.target,
                 "MQTT load instead of HTTP: mqtt://HOST:PORT (--workers = connections)");
  app.add_option("--mqtt-inflight", mqtt.inflight, "MQTT load: PUBLISHes in flight per connection")
      ->capture_default_str();
  app.add_option("--mqtt-qos", mqtt.qos, "MQTT load: QoS 1 or 2")->capture_default_str();
  app.add_option("--mqtt-password", mqtt.password, "MQTT load: CONNECT password (the token)");
  app.add_option("--json", json_file, "also write the results as JSON to this file");

  app.set_version_flag("--version", "cistern-loadgen " CISTERN_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::cout << "cistern-loadgen " CISTERN_VERSION "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    return UsageError(e.what());
  }
  if (!token_file.empty()) {
    auto tokens = ReadTokenFile(token_file);
    if (!tokens.ok()) return UsageError("--token-file: " + tokens.status().message());
    http.token = tokens->front();
  }
  auto d = ParseDuration(duration);
  if (!d.ok()) return UsageError("--duration: " + d.status().message());
  http.duration = *d;
  spdlog::set_level(spdlog::level::warn);  // the store's info lines would clutter the tables

  if (bench || contention || disjoint) {
    exp.workers = http.workers;
    exp.duration = *d;
    exp.devices = http.devices;
    exp.modes.clear();
    std::stringstream ss(modes);
    for (std::string m; std::getline(ss, m, ',');) {
      auto mode = ParseWriteMode(m);
      if (!mode.ok()) return UsageError("--modes: " + mode.status().message());
      exp.modes.push_back(*mode);
    }
    return RunExperiments(bench, contention, disjoint, exp, json_file);
  }
  if (!mqtt.target.empty()) {
    mqtt.connections = http.workers;
    mqtt.duration = *d;
    mqtt.verify_db = http.verify_db;
    return RunMqttLoad(mqtt, std::cout, std::cerr);
  }
  if (http.otlp && !http.verify_db.empty()) {
    return UsageError("--verify-db needs ids in the answers: not with --otlp");
  }
  http.json_file = json_file;
  http.progress = isatty(STDERR_FILENO) != 0;
  return RunHttpLoad(http, std::cout, std::cerr);
}
