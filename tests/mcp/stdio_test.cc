// The real cistern-mcp binary over its stdin/stdout: framing, error codes, notifications,
// exit codes, and a live WAL database that the real collector is writing.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "common/json_writer.h"
#include "mcp_test_db.h"
#include "piped_child.h"
#include "support/cistern_process.h"
#include "support/http_client.h"
#include "support/spawn.h"
#include "support/sqlite_peek.h"
#include "support/temp_dir.h"

namespace cistern::testing {
namespace {

constexpr auto kReplyTimeout = std::chrono::seconds(10);

int CountEntries(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..") ++n;
  }
  closedir(d);
  return n;
}

class StdioTest : public ::testing::Test {
 protected:
  // A server that dies mid-test must fail the test, not kill it with SIGPIPE on the next write.
  static void SetUpTestSuite() { signal(SIGPIPE, SIG_IGN); }
  std::unique_ptr<PipedChild> StartMcp(const std::string& db, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {CISTERN_MCP_BINARY, "--db", db};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto child = std::make_unique<PipedChild>(argv, log_);
    EXPECT_GT(child->pid(), 0);
    return child;
  }
  std::string Exchange(PipedChild& child, const std::string& line) {
    EXPECT_TRUE(child.WriteLine(line));
    return child.ReadLine(kReplyTimeout).value_or("<no reply>");
  }

  TempDir dir_;
  std::string log_ = dir_.File("mcp-stderr.log");
};

TEST_F(StdioTest, ProtocolErrorsOverRealPipes) {
  MakeTestDb(dir_.File("events.db"));
  auto mcp = StartMcp(dir_.File("events.db"));
  EXPECT_EQ(Exchange(*mcp, "{this is not json"),
            R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,)"
            R"("message":"parse error: the line is not valid JSON"}})");
  EXPECT_NE(Exchange(*mcp, R"({"jsonrpc":"2.0","id":7,"method":"bogus/method"})")
                .find(R"("id":7,"error":{"code":-32601)"),
            std::string::npos);
  // A notification gets no answer: the next line read is the ping's reply.
  ASSERT_TRUE(mcp->WriteLine(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  EXPECT_EQ(Exchange(*mcp, R"({"jsonrpc":"2.0","id":"x","method":"ping"})"),
            R"({"jsonrpc":"2.0","id":"x","result":{}})");
  // An oversized line is refused and the stream stays in sync.
  EXPECT_NE(Exchange(*mcp, std::string(2 << 20, 'x')).find("-32600"), std::string::npos);
  EXPECT_EQ(Exchange(*mcp, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"}\r"),
            R"({"jsonrpc":"2.0","id":8,"result":{}})");
  mcp->CloseStdin();
  EXPECT_EQ(mcp->Wait(kReplyTimeout), 0);
  // Logs go to stderr, never stdout.
  EXPECT_NE(ReadFile(log_).find("stdin closed"), std::string::npos);
}

TEST_F(StdioTest, BadFlagsAndMissingDatabaseExit2WithoutCreatingIt) {
  auto missing =
      RunProgram({CISTERN_MCP_BINARY, "--db", dir_.File("nope.db")}, std::chrono::seconds(10));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.output, "cistern-mcp: " + dir_.File("nope.db") + ": no such database file\n");
  struct stat st;
  EXPECT_NE(stat(dir_.File("nope.db").c_str(), &st), 0) << "cistern-mcp created the file";

  MakeTestDb(dir_.File("events.db"));
  for (std::vector<std::string> flags : {std::vector<std::string>{"--bogus"},
                                         {"--query-timeout", "soon"},
                                         {"--max-rows", "0"},
                                         {}}) {
    std::vector<std::string> argv = {CISTERN_MCP_BINARY};
    if (!flags.empty()) argv.insert(argv.end(), {"--db", dir_.File("events.db")});
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto r = RunProgram(argv, std::chrono::seconds(10));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_TRUE(r.output.starts_with("cistern-mcp: ")) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  }
}

std::string QueryLine(int id, const std::string& sql) {
  std::string out = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
                    R"(,"method":"tools/call","params":{"name":"query","arguments":{"sql":)";
  AppendJsonString(&out, sql);
  return out + "}}}";
}

// Parses a reply line strictly (simdjson validates UTF-8) and returns content[0].text, with
// *is_error set; "<not json>" when the line does not parse.
std::string ToolText(const std::string& line, bool* is_error) {
  static simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(line).get(doc)) return "<not json>";
  std::string_view text;
  if (doc["result"]["isError"].get(*is_error) || doc["result"]["content"].at(0)["text"].get(text)) {
    return "<no tool result>";
  }
  return std::string(text);
}

// The hostile queries of the security review, one after the other on one server process:
// each gets a tool error naming the limit, and the server keeps answering.
TEST_F(StdioTest, HostileQueriesGetToolErrorsAndTheServerKeepsAnswering) {
  MakeTestDb(dir_.File("events.db"));
  auto mcp = StartMcp(dir_.File("events.db"));
  std::string hundred_blobs = "SELECT randomblob(2000000)";
  for (int i = 1; i < 100; ++i) hundred_blobs += ", randomblob(2000000)";
  const std::vector<std::pair<std::string, std::string>> hostile = {
      {"SELECT zeroblob(1e9)", "string or blob too big"},
      {"SELECT zeroblob(1e8)", "string or blob too big"},
      {"SELECT length(printf('%.*c',999999999,'x'))", "printf"},
      {"SELECT CAST(zeroblob(1500000) AS TEXT) AS nuls", "column \"nuls\""},
      {hundred_blobs, "out of memory"},
  };
  int id = 1;
  for (const auto& [sql, expected] : hostile) {
    const std::string line = Exchange(*mcp, QueryLine(id++, sql));
    EXPECT_LT(line.size(), 1u << 20) << sql;
    bool is_error = false;
    const std::string text = ToolText(line, &is_error);
    EXPECT_TRUE(is_error) << sql << ": " << text.substr(0, 300);
    EXPECT_NE(text.find(expected), std::string::npos) << sql << ": " << text.substr(0, 300);
    EXPECT_NE(Exchange(*mcp, QueryLine(id++, "SELECT 41 + 1")).find(R"("rows":[[42]])"),
              std::string::npos)
        << "no answer after " << sql;
  }
  // Many rows of big values: cut at the reply budget, marked truncated.
  const std::string line =
      Exchange(*mcp, QueryLine(id++,
                               "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                               "LIMIT 50) SELECT x, hex(randomblob(500000)) FROM c"));
  EXPECT_LT(line.size(), 14u << 20);
  EXPECT_NE(line.find(R"("truncated":true)"), std::string::npos) << line.substr(0, 300);
  mcp->CloseStdin();
  EXPECT_EQ(mcp->Wait(kReplyTimeout), 0);
}

// No read transaction outlives a reply: once the answer is read, a TRUNCATE checkpoint (which
// needs every reader gone) resets the WAL to zero bytes.
TEST_F(StdioTest, NoReadTransactionOutlivesAReply) {
  const std::string db = dir_.File("events.db");
  MakeTestDb(db);
  auto mcp = StartMcp(db);
  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &writer), SQLITE_OK);
  auto checkpoint = [&] {
    EXPECT_EQ(sqlite3_exec(writer,
                           "INSERT INTO meta(key, value) VALUES ('k', 'v') "
                           "ON CONFLICT(key) DO UPDATE SET value = value || 'v'",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(writer);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(writer, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &stmt, nullptr),
              SQLITE_OK);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    int busy = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    struct stat st;
    EXPECT_EQ(stat((db + "-wal").c_str(), &st), 0);
    return busy == 0 && st.st_size == 0;
  };
  int id = 1;
  for (const char* sql :
       {"SELECT id FROM events", "SELECT count(*) FROM events",
        "SELECT value FROM json_each('[1,2,3]')", "SELECT zeroblob(1e9)", "SELECT * FROM nope"}) {
    EXPECT_NE(Exchange(*mcp, QueryLine(id++, sql)).find(R"("result")"), std::string::npos);
    EXPECT_TRUE(checkpoint()) << "a reader still pins the WAL after: " << sql;
  }
  for (const char* tool : {"backlog_summary", "list_tables"}) {
    EXPECT_NE(Exchange(*mcp, std::string(R"({"jsonrpc":"2.0","id":99,"method":"tools/call",)") +
                                 R"("params":{"name":")" + tool + R"(","arguments":{}}})")
                  .find(R"("isError":false)"),
              std::string::npos);
    EXPECT_TRUE(checkpoint()) << "a reader still pins the WAL after " << tool;
  }
  sqlite3_close(writer);
  mcp->CloseStdin();
  EXPECT_EQ(mcp->Wait(kReplyTimeout), 0);
}

TEST_F(StdioTest, DefaultQueryTimeoutIsTwoSeconds) {
  MakeTestDb(dir_.File("events.db"));
  auto mcp = StartMcp(dir_.File("events.db"));
  EXPECT_NE(Exchange(*mcp, R"({"jsonrpc":"2.0","id":1,"method":"ping"})").find("result"),
            std::string::npos);
  mcp->CloseStdin();
  EXPECT_EQ(mcp->Wait(kReplyTimeout), 0);
  EXPECT_NE(ReadFile(log_).find("query timeout 2000 ms"), std::string::npos) << ReadFile(log_);
}

// --snapshot: every answer comes from a private copy taken at start, so the live file's WAL is
// never pinned by a long analysis; the copy is not left behind in the temporary directory.
TEST_F(StdioTest, SnapshotServesAPrivateCopyAndLeavesNothingBehind) {
  const std::string db = dir_.File("events.db");
  MakeTestDb(db);
  TempDir tmp;
  setenv("TMPDIR", tmp.path().c_str(), 1);
  auto mcp = StartMcp(db, {"--snapshot"});
  unsetenv("TMPDIR");
  const std::string count = QueryLine(1, "SELECT count(*) FROM events");
  EXPECT_NE(Exchange(*mcp, count).find(R"("rows":[[5]])"), std::string::npos);
  ASSERT_TRUE(ExecSql(db, "INSERT INTO event_log(device_id, kind, ts) VALUES ('z', 't', 9000)"));
  EXPECT_NE(Exchange(*mcp, count).find(R"("rows":[[5]])"), std::string::npos)
      << "the snapshot saw a later write";
  EXPECT_NE(Exchange(*mcp, QueryLine(2, "SELECT name FROM dbstat LIMIT 1")).find("isError\":false"),
            std::string::npos);
  // The copy was unlinked once opened (no -wal or -shm either): nothing left in TMPDIR.
  EXPECT_EQ(CountEntries(tmp.path()), 0) << "snapshot files left in " << tmp.path();
  // The live file's WAL can be reset while the snapshot server runs.
  EXPECT_EQ(QueryRows(db, "PRAGMA wal_checkpoint(TRUNCATE)")[0][0], "0");
  auto live = StartMcp(db);
  EXPECT_NE(Exchange(*live, count).find(R"("rows":[[6]])"), std::string::npos);
  mcp->CloseStdin();
  EXPECT_EQ(mcp->Wait(kReplyTimeout), 0);
  EXPECT_EQ(CountEntries(tmp.path()), 0);
  EXPECT_NE(ReadFile(log_).find("snapshot of"), std::string::npos) << ReadFile(log_);
}

// The point of the "live database": the collector holds the write connection and the lock,
// keeps committing, and cistern-mcp reads through its own read-only connection (WAL + -shm).
TEST_F(StdioTest, ReadsTheLiveDatabaseWhileTheCollectorWrites) {
  const std::string db = dir_.File("live.db");
  CisternProcess server(dir_.path(), db, {"--sink", "none"});
  ASSERT_TRUE(server.started()) << server.Log();
  HttpClient http("127.0.0.1", server.port());
  ASSERT_EQ(http.Post("/events", R"([{"device_id":"d1","kind":"t"},{"device_id":"d2","kind":"t"}])")
                .status,
            200);
  auto mcp = StartMcp(db);
  const std::string count =
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"query",)"
      R"("arguments":{"sql":"SELECT count(*) FROM events"}}})";
  EXPECT_NE(Exchange(*mcp, count).find(R"("rows":[[2]])"), std::string::npos);
  for (int i = 0; i < 20; ++i) {
    auto r = http.Post("/events", R"({"device_id":"d3","kind":"t"})");
    ASSERT_EQ(r.status, 200) << r.body;  // the reader never blocks the writer
  }
  EXPECT_NE(Exchange(*mcp, count).find(R"("rows":[[22]])"), std::string::npos);
  mcp->CloseStdin();
  EXPECT_EQ(mcp->Wait(kReplyTimeout), 0);
  EXPECT_EQ(server.Stop(), 0) << server.Log();
}

}  // namespace
}  // namespace cistern::testing
