// The reference collector's three in-process experiments, run on our store (no HTTP), each
// cell on a fresh database (docs/architecture.md, tools):
//   RunBench       insert throughput per write mode x indexed/not: N workers each insert
//                  single events as fast as they can (each waits for its own commit).
//   RunContention  insert latency p50/p95/p99/max per mode while a background writer runs
//                  the uploader's own checkpoint transaction in a loop (mark a 200-event
//                  backlog slice uploaded, device upserts, an upload_runs row).
//   RunDisjoint    writers each own a row range and update it in 20-statement transactions
//                  (zero conflicts by construction): rows updated/s per mode.
// Results print as markdown tables and serialize to JSON. Not thread-safe; run one at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/write_path.h"

namespace cistern::loadgen {

struct ExperimentOptions {
  int workers = 64;
  std::chrono::milliseconds duration{5'000};  // per cell
  int devices = 50;
  std::string dir;  // where the fresh databases go ("" = a temp dir, removed afterwards)
  std::vector<WriteMode> modes = {WriteMode::kGroup, WriteMode::kSerialized,
                                  WriteMode::kConcurrent};
};

struct BenchRow {
  std::string mode;
  bool indexed = false;
  int64_t events = 0;
  double events_per_s = 0;
  double vs_serialized = 0;  // events_per_s / the serialized row with the same indexed
  int64_t commits = 0;
  int64_t conflicts = 0;
};

struct ContentionRow {
  std::string mode;
  int64_t inserts = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;
  int64_t checkpoint_txns = 0;
  int64_t conflicts = 0;
};

struct DisjointRow {
  std::string mode;
  int64_t rows_updated = 0;
  double rows_per_s = 0;
  int64_t transactions = 0;
  int64_t conflicts = 0;
};

Result<std::vector<BenchRow>> RunBench(const ExperimentOptions& options);
Result<std::vector<ContentionRow>> RunContention(const ExperimentOptions& options);
Result<std::vector<DisjointRow>> RunDisjoint(const ExperimentOptions& options);

std::string BenchTable(const std::vector<BenchRow>& rows);
std::string ContentionTable(const std::vector<ContentionRow>& rows);
std::string DisjointTable(const std::vector<DisjointRow>& rows);

// {"bench":[...],"contention":[...],"disjoint":[...]} with whichever were run.
std::string ExperimentsJson(const std::vector<BenchRow>* bench,
                            const std::vector<ContentionRow>* contention,
                            const std::vector<DisjointRow>* disjoint);

}  // namespace cistern::loadgen
