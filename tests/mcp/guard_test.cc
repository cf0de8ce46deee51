// The read-only guard: every write form is refused and leaves the file as it was; rows, time
// and value types are bounded and mapped as documented in mcp/readonly_db.h.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "mcp/readonly_db.h"
#include "mcp_test_db.h"
#include "support/sqlite_peek.h"

namespace cistern::mcp {
namespace {

using cistern::testing::QueryInt;
using cistern::testing::QueryRows;

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

class GuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::MakeTestDb(path_);
    auto db = ReadOnlyDb::Open(path_);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(*db);
  }
  Result<QueryResult> Q(const std::string& sql, int64_t max_rows = 1000,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return db_->Query(sql, QueryLimits{max_rows, timeout});
  }
  std::string Snapshot() {
    std::string out;
    for (const char* t : {"events", "devices", "upload_runs", "meta"}) {
      for (const auto& row : QueryRows(path_, std::string("SELECT * FROM ") + t)) {
        for (const auto& v : row) out += v + "|";
        out += "\n";
      }
    }
    out += std::to_string(QueryInt(path_, "PRAGMA user_version"));
    out += QueryRows(path_, "PRAGMA journal_mode")[0][0];
    out += std::to_string(QueryInt(path_, "SELECT count(*) FROM sqlite_schema"));
    return out;
  }

  cistern::testing::TempDir dir_;
  std::string path_ = dir_.File("events.db");
  std::unique_ptr<ReadOnlyDb> db_;
};

TEST_F(GuardTest, EveryWriteFormIsRefusedAndNothingChanges) {
  const std::string before = Snapshot();
  const std::string vacuum_target = dir_.File("copy.db");
  const std::string attach_target = dir_.File("other.db");
  const std::vector<std::string> writes = {
      "INSERT INTO events(device_id, kind, ts) VALUES('x','t',1)",
      "INSERT INTO event_log(device_id, kind, ts) VALUES('x','t',1)",
      "UPDATE event_log SET ts = 1",
      "DELETE FROM event_log",
      "UPDATE devices SET pending = 0",
      "DROP VIEW pending_events",
      "DELETE FROM events",
      "DROP TABLE events",
      "DROP INDEX upload_runs_shipped",
      "CREATE TABLE x(a)",
      "CREATE TEMP TABLE x(a)",
      "CREATE INDEX ix ON events(kind)",
      "ALTER TABLE events ADD COLUMN z",
      "ATTACH '" + attach_target + "' AS other",
      "DETACH main",
      "PRAGMA user_version=5",
      "PRAGMA journal_mode=delete",
      "PRAGMA writable_schema=1",
      "PRAGMA query_only=0",
      "SELECT * FROM pragma_user_version(5)",
      "SELECT 1; DELETE FROM events",
      "SELECT 1; SELECT 2",
      "VACUUM INTO '" + vacuum_target + "'",
      "VACUUM",
      "REPLACE INTO meta(key, value) VALUES('node_id','x')",
      "INSERT OR REPLACE INTO meta(key, value) VALUES('node_id','x')",
      "WITH old AS (SELECT id FROM events) DELETE FROM events WHERE id IN old",
      "BEGIN",
      "BEGIN IMMEDIATE",
      "SAVEPOINT s",
      "REINDEX",
      "ANALYZE",
      "SELECT load_extension('/nonexistent/ext')",
  };
  for (const auto& sql : writes) {
    auto r = Q(sql);
    EXPECT_FALSE(r.ok()) << "not refused: " << sql;
    if (!r.ok()) {
      const std::string m = r.status().message();
      EXPECT_TRUE(m.starts_with("refused:") || m.starts_with("SQL error:")) << sql << ": " << m;
    }
  }
  EXPECT_EQ(Snapshot(), before);
  EXPECT_FALSE(Exists(vacuum_target));
  EXPECT_FALSE(Exists(attach_target));
  // The guard still serves reads afterwards (no transaction was left open).
  auto r = Q("SELECT count(*) FROM events");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(std::get<int64_t>(r->rows[0][0]), 5);
}

TEST_F(GuardTest, RefusalsSayWhatWasRefused) {
  EXPECT_EQ(Q("DELETE FROM event_log").status().message(),
            "refused: DELETE on table event_log is not allowed; cistern-mcp is read-only");
  EXPECT_NE(Q("SELECT 1; DELETE FROM events").status().message().find("more than one statement"),
            std::string::npos);
  EXPECT_NE(Q("PRAGMA user_version=5").status().message().find("PRAGMA user_version = 5"),
            std::string::npos);
  EXPECT_NE(Q("SELECT load_extension('x')").status().message().find("load_extension"),
            std::string::npos);
  EXPECT_NE(Q("VACUUM INTO '/tmp/x'").status().message().find("would write"), std::string::npos);
  EXPECT_NE(Q("SELEC 1").status().message().find("syntax error"), std::string::npos);
  EXPECT_NE(Q("SELECT * FROM nope").status().message().find("no such table: nope"),
            std::string::npos);
  EXPECT_EQ(Q("  -- nothing\n ; ").status().message(), "no SQL statement given");
}

TEST_F(GuardTest, AllowsReadsCommentsAndReadOnlyPragmas) {
  for (const char* sql : {
           "SELECT id FROM events;",
           "SELECT id FROM events; -- trailing comment\n ; /* block */ ;",
           "WITH p AS (SELECT * FROM events WHERE uploaded_at IS NULL) SELECT count(*) FROM p",
           "PRAGMA table_info(events)",
           "PRAGMA index_list(events)",
           "PRAGMA user_version",
           "SELECT name FROM pragma_table_info('events')",
           "SELECT * FROM pragma_index_info('upload_runs_shipped')",
           "EXPLAIN QUERY PLAN SELECT count(*) FROM events WHERE uploaded_at IS NULL",
       }) {
    auto r = Q(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().message();
  }
  EXPECT_TRUE(Q("PRAGMA cache_size").status().message().find("allow-list") != std::string::npos);
}

TEST_F(GuardTest, RowCapMarksTruncated) {
  auto r = Q("SELECT id FROM events ORDER BY id", 3);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows.size(), 3u);
  EXPECT_TRUE(r->truncated);
  r = Q("SELECT id FROM events ORDER BY id", 5);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows.size(), 5u);
  EXPECT_FALSE(r->truncated);
}

TEST_F(GuardTest, NoTransactionOutlivesAQuery) {
  EXPECT_TRUE(Q("SELECT id FROM events", 2).ok());  // stopped early at the row cap
  EXPECT_FALSE(db_->InTransaction());
  EXPECT_FALSE(Q("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                 "SELECT count(*) FROM c",
                 10, std::chrono::milliseconds(50))
                   .ok());
  EXPECT_FALSE(db_->InTransaction());
  EXPECT_FALSE(Q("BEGIN").ok());
  EXPECT_FALSE(db_->InTransaction());
}

TEST_F(GuardTest, InfiniteQueryTimesOut) {
  auto start = std::chrono::steady_clock::now();
  auto r =
      Q("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
        "SELECT count(*) FROM c",
        10, std::chrono::milliseconds(300));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(r.status().message().find("timed out after 300 ms"), std::string::npos)
      << r.status().message();
  EXPECT_LT(took, std::chrono::seconds(3));
  // The connection is usable afterwards.
  EXPECT_TRUE(Q("SELECT 1").ok());
}

TEST_F(GuardTest, ValueTypesMapToJson) {
  auto r = Q("SELECT 42, 1.25, 'text \"q\"', x'00ff10', NULL, 1e999");
  ASSERT_TRUE(r.ok());
  std::string json;
  for (const auto& v : r->rows[0]) {
    AppendSqlValueJson(&json, v);
    json += ',';
  }
  EXPECT_EQ(json, "42,1.25,\"text \\\"q\\\"\",\"base64:AP8Q\",null,null,");
  EXPECT_EQ(r->columns[0], "42");
  auto precise = Q("SELECT 0.1234567");
  ASSERT_TRUE(precise.ok());
  json.clear();
  AppendSqlValueJson(&json, precise->rows[0][0]);
  EXPECT_EQ(json, "0.1234567");
}

TEST_F(GuardTest, BoundParameters) {
  auto r = db_->Query("SELECT count(*) FROM events WHERE device_id = ?1",
                      QueryLimits{10, std::chrono::seconds(5)}, {std::string("a")});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<int64_t>(r->rows[0][0]), 3);
}

TEST(GuardOpenTest, MissingFileIsNotCreated) {
  cistern::testing::TempDir dir;
  auto db = ReadOnlyDb::Open(dir.File("missing.db"));
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("no such database file"), std::string::npos);
  EXPECT_FALSE(Exists(dir.File("missing.db")));
}

TEST(GuardOpenTest, NotADatabaseFailsAtOpen) {
  cistern::testing::TempDir dir;
  std::string path = dir.File("junk.db");
  FILE* f = fopen(path.c_str(), "w");
  fputs("this is not an sqlite file, just some text that is long enough to have a header", f);
  fclose(f);
  auto db = ReadOnlyDb::Open(path);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("not a readable SQLite database"), std::string::npos)
      << db.status().message();
}

}  // namespace
}  // namespace cistern::mcp
