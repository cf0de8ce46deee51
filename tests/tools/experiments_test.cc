// Smoke runs of the three in-process experiments: short, but each produces a table with one
// row per mode (and, for --bench, per indexed/not), made of real measurements.
#include "tools/loadgen/experiments.h"

#include <gtest/gtest.h>

#include "support/cistern_process.h"
#include "support/temp_dir.h"

namespace cistern::testing {
namespace {

loadgen::ExperimentOptions Smoke(const TempDir& dir) {
  loadgen::ExperimentOptions o;
  o.workers = 8;
  o.duration = std::chrono::milliseconds(250);
  o.dir = dir.path();
  return o;
}

size_t CountLines(const std::string& s, const std::string& prefix) {
  size_t n = 0, pos = 0;
  while ((pos = s.find("\n" + prefix, pos)) != std::string::npos) {
    ++n;
    ++pos;
  }
  return n;
}

TEST(ExperimentsTest, BenchHasARowPerModeAndIndexChoice) {
  TempDir dir;
  auto rows = loadgen::RunBench(Smoke(dir));
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 6u);
  for (const auto& r : *rows) {
    EXPECT_GT(r.events, 0) << r.mode;
    EXPECT_GT(r.events_per_s, 0) << r.mode;
    EXPECT_GT(r.commits, 0) << r.mode;
    if (r.mode == "serialized") {
      EXPECT_DOUBLE_EQ(r.vs_serialized, 1.0);
    }
    // One commit per event outside group mode: a transaction per request.
    if (r.mode != "group") {
      EXPECT_EQ(r.commits, r.events) << r.mode;
    }
  }
  std::string table = loadgen::BenchTable(*rows);
  EXPECT_EQ(CountLines(table, "| group |"), 2u) << table;
  EXPECT_EQ(CountLines(table, "| serialized |"), 2u) << table;
  EXPECT_EQ(CountLines(table, "| concurrent |"), 2u) << table;
}

TEST(ExperimentsTest, ContentionHasARowPerModeWithOrderedPercentiles) {
  TempDir dir;
  auto rows = loadgen::RunContention(Smoke(dir));
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 3u);
  for (const auto& r : *rows) {
    EXPECT_GT(r.inserts, 0) << r.mode;
    EXPECT_GT(r.checkpoint_txns, 0) << r.mode << ": the background writer never committed";
    EXPECT_LE(r.p50_ms, r.p95_ms);
    EXPECT_LE(r.p95_ms, r.p99_ms);
    EXPECT_LE(r.p99_ms, r.max_ms);
  }
  // Rows follow the header line; the header itself is the table's first line.
  EXPECT_EQ(CountLines(loadgen::ContentionTable(*rows), "| "), 3u);
}

TEST(ExperimentsTest, DisjointHasARowPerMode) {
  TempDir dir;
  auto rows = loadgen::RunDisjoint(Smoke(dir));
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 3u);
  for (const auto& r : *rows) {
    EXPECT_GT(r.rows_updated, 0) << r.mode;
    EXPECT_EQ(r.rows_updated % 20, 0) << "transactions are all-or-nothing, 20 statements each";
    EXPECT_GT(r.transactions, 0);
  }
  std::string json = loadgen::ExperimentsJson(nullptr, nullptr, &*rows);
  EXPECT_NE(json.find("\"disjoint\":["), std::string::npos) << json;
}

TEST(ExperimentsTest, TheCommandLinePrintsTablesAndWritesJson) {
  TempDir dir;
  std::vector<std::string> args = {
      "--bench",    "--contention", "--disjoint",        "--workers",        "4",
      "--duration", "200ms",        "--modes",           "group,serialized", "--dir",
      dir.path(),   "--json",       dir.File("out.json")};
  // RunCistern runs the cistern binary; the loadgen binary sits beside it.
  std::string loadgen = std::string(CISTERN_BINARY);
  loadgen = loadgen.substr(0, loadgen.rfind('/')) + "/cistern-loadgen";
  std::string cmd = loadgen;
  for (const auto& a : args) cmd += " '" + a + "'";
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  EXPECT_EQ(pclose(p), 0) << out;
  EXPECT_NE(out.find("### --bench"), std::string::npos) << out;
  EXPECT_NE(out.find("### --contention"), std::string::npos) << out;
  EXPECT_NE(out.find("### --disjoint"), std::string::npos) << out;
  EXPECT_EQ(out.find("| concurrent |"), std::string::npos) << "--modes was ignored";
  EXPECT_NE(out.find("| serialized |"), std::string::npos) << out;
  FILE* f = fopen(dir.File("out.json").c_str(), "r");
  ASSERT_NE(f, nullptr);
  fclose(f);
}

}  // namespace
}  // namespace cistern::testing
