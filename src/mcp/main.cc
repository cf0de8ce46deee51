// cistern-mcp: a read-only Model Context Protocol server over stdio for an operator's AI
// assistant, reading the collector's live database (see docs/mcp.md).
//
// stdout carries only JSON-RPC replies; logs go to stderr. Exit codes: 0 at stdin EOF, 2 for a
// bad flag or an unusable database, 1 when stdout is gone.
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "common/clock.h"
#include "common/duration.h"
#include "mcp/line_io.h"
#include "mcp/readonly_db.h"
#include "mcp/server.h"
#include "mcp/snapshot.h"
#include "mcp/tools.h"

namespace {

constexpr size_t kMaxLineBytes = 1 << 20;
// All SQLite may allocate in this process (sqlite3_hard_heap_limit64): past it a statement
// fails with "out of memory" instead of the process growing, e.g. a row of a hundred
// 2 MiB values (each under the per-value limit).
constexpr int64_t kSqliteHeapLimit = int64_t{128} << 20;

int Fail(const std::string& message) {
  std::fprintf(stderr, "cistern-mcp: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cistern;
  // Anything logged, by us or a library, must stay off stdout.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("cistern-mcp"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e cistern-mcp %l: %v");
  signal(SIGPIPE, SIG_IGN);

  CLI::App app{"cistern-mcp: read-only MCP server (JSON-RPC over stdio) for a Cistern database"};
  std::string db_path;
  int64_t max_rows = 1000;
  std::string timeout_text = "2s";
  bool snapshot = false;
  std::string wal_wait_text = "1s";
  std::string wal_budget_text = "32MiB";
  app.add_option("--db", db_path, "the collector's SQLite database (opened read-only)")->required();
  app.add_option("--max-rows", max_rows, "most rows one query answer holds")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}));
  app.add_option("--query-timeout", timeout_text, "interrupt a query after this long (e.g. 2s)")
      ->capture_default_str();
  app.add_option("--wal-wait", wal_wait_text,
                 "before each query on the live file, wait up to this long for the collector "
                 "to rewind its WAL (0: never wait)")
      ->capture_default_str();
  app.add_option("--wal-budget", wal_budget_text,
                 "stop a query on the live file once the collector has written this much to "
                 "its WAL while it ran (0: no bound)")
      ->capture_default_str();
  app.add_flag("--snapshot", snapshot,
               "serve a private copy of the database taken at start (in $TMPDIR), so long "
               "analyses never hold a read transaction on the live file");
  app.set_version_flag("--version", "cistern-mcp " CISTERN_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return Fail(e.what());
  }
  auto timeout = ParseDuration(timeout_text);
  if (!timeout.ok()) return Fail("--query-timeout: " + timeout.status().message());
  if (timeout->count() <= 0) return Fail("--query-timeout must be more than 0");
  auto wal_wait = ParseDuration(wal_wait_text);
  if (!wal_wait.ok()) return Fail("--wal-wait: " + wal_wait.status().message());
  if (wal_wait->count() < 0) return Fail("--wal-wait must be 0 or more");
  auto wal_budget = ParseSize(wal_budget_text);
  if (!wal_budget.ok()) return Fail("--wal-budget: " + wal_budget.status().message());
  if (*wal_budget > (uint64_t{1} << 40)) return Fail("--wal-budget must be at most 1TiB");

  sqlite3_hard_heap_limit64(kSqliteHeapLimit);
  std::string serve_path = db_path;
  int64_t snapshot_ms = 0;
  if (snapshot) {
    const char* tmp = std::getenv("TMPDIR");
    auto copy = mcp::CopyDatabase(db_path, tmp && *tmp ? tmp : "/tmp");
    if (!copy.ok()) return Fail(copy.status().message());
    serve_path = copy->path;
    snapshot_ms = UnixMillis();
    spdlog::info("snapshot of {} taken: {} bytes in {} ms", db_path, copy->bytes, copy->copy_ms);
  }
  auto db = mcp::ReadOnlyDb::Open(serve_path);
  if (snapshot) unlink(serve_path.c_str());  // open files stay readable; nothing is left behind
  if (!db.ok()) return Fail(db.status().message());
  // In snapshot mode the ages of backlog_summary are as of the copy, like its figures.
  mcp::Tools tools(
      db->get(),
      mcp::ToolLimits{max_rows, *timeout, snapshot ? std::chrono::milliseconds(0) : *wal_wait,
                      snapshot ? 0 : static_cast<int64_t>(*wal_budget)},
      [snapshot_ms] { return snapshot_ms ? snapshot_ms : UnixMillis(); });
  mcp::McpServer server(&tools);
  spdlog::info(
      "serving {} read-only on stdio{} (max rows {}, query timeout {} ms, wal wait {} ms, wal "
      "budget {})",
      db_path, snapshot ? " from a snapshot" : "", max_rows, timeout->count(),
      snapshot ? 0 : wal_wait->count(), snapshot ? "none" : FormatSize(*wal_budget));

  mcp::LineReader reader(STDIN_FILENO, kMaxLineBytes);
  std::string line;
  for (;;) {
    auto outcome = reader.Next(&line);
    if (outcome == mcp::LineReader::Outcome::kEof) break;
    std::optional<std::string> reply = outcome == mcp::LineReader::Outcome::kTooLong
                                           ? mcp::McpServer::TooLongReply(kMaxLineBytes)
                                           : server.HandleLine(line);
    if (reply && !mcp::WriteLine(STDOUT_FILENO, *reply)) {
      spdlog::error("stdout closed; exiting");
      return 1;
    }
  }
  spdlog::info("stdin closed; exiting");
  return 0;
}
