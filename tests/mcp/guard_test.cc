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

// Functions are allow-listed by name (docs/mcp.md): the useful read-only ones work, including
// the table-valued json_each/json_tree and the dbstat virtual table; everything else is refused
// with a message naming the function.
TEST_F(GuardTest, FunctionAllowList) {
  for (const char* sql : {
           "SELECT key, value FROM json_each('{\"a\":1,\"b\":[2,3]}')",
           "SELECT fullkey FROM json_tree('{\"a\":{\"b\":1}}')",
           "SELECT e.id, j.value FROM events AS e, json_each(e.payload_json) AS j",
           "SELECT payload_json -> 'v', payload_json ->> '$.v', json_extract(payload_json, '$.v') "
           "FROM events",
           "SELECT name, sum(pgsize) FROM dbstat GROUP BY name",
           "SELECT count(*), sum(ts), total(ts), avg(ts), min(ts), max(ts), group_concat(kind) "
           "FROM events",
           "SELECT row_number() OVER w, rank() OVER w, dense_rank() OVER w, ntile(2) OVER w, "
           "lag(id) OVER w, lead(id) OVER w, first_value(id) OVER w, last_value(id) OVER w, "
           "nth_value(id, 2) OVER w, percent_rank() OVER w, cume_dist() OVER w "
           "FROM events WINDOW w AS (ORDER BY ts)",
           "SELECT datetime(ts / 1000, 'unixepoch'), date('now'), time('now'), julianday('now'), "
           "strftime('%Y', 'now'), unixepoch(), CURRENT_TIMESTAMP FROM events",
           "SELECT abs(-1), coalesce(NULL, 1), ifnull(NULL, 2), iif(1, 2, 3), instr('ab', 'b'), "
           "length('x'), lower('A'), upper('a'), ltrim(' a'), rtrim('a '), trim(' a '), "
           "trim('xax', 'x'), max(1, 2), min(1, 2), nullif(1, 2), quote('a'), "
           "replace('aa', 'a', 'b'), round(1.25, 1), substr('abc', 2), substring('abc', 2), "
           "typeof(1), unicode('a'), char(65), hex('a'), likely(1), unlikely(1), "
           "'a' LIKE 'A', 'a' GLOB 'a', random() IS NOT NULL, length(randomblob(4)), "
           "zeroblob(2), sqlite_version() IS NOT NULL, sign(-3), sqrt(4.0)",
       }) {
    auto r = Q(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().message();
  }
  auto each = Q("SELECT value FROM json_each('[10,20]')");
  ASSERT_TRUE(each.ok()) << each.status().message();
  ASSERT_EQ(each->rows.size(), 2u);
  EXPECT_EQ(std::get<int64_t>(each->rows[1][0]), 20);

  const std::vector<std::pair<std::string, std::string>> refused = {
      {"SELECT hex(fts3_tokenizer('simple'))", "fts3_tokenizer"},
      {"SELECT fts3_tokenizer('simple', x'4141414141414141')", "fts3_tokenizer"},
      {"SELECT load_extension('/nonexistent/ext')", "load_extension"},
      {"SELECT printf('%.*c', 999999999, 'x')", "printf"},
      {"SELECT format('%d', 1)", "format"},
      {"SELECT json_patch('{}', '{}')", "json_patch"},
      {"SELECT changes()", "changes"},
      {"SELECT * FROM sqlite_stmt", "virtual table"},
  };
  for (const auto& [sql, name] : refused) {
    auto r = Q(sql);
    ASSERT_FALSE(r.ok()) << "not refused: " << sql;
    EXPECT_TRUE(r.status().message().starts_with("refused:"))
        << sql << ": " << r.status().message();
    EXPECT_NE(r.status().message().find(name), std::string::npos)
        << sql << ": " << r.status().message();
  }
  // The FTS3 tokenizer switch is off on the connection too, not only behind the authorizer.
  int enabled = -1;
  ASSERT_EQ(sqlite3_db_config(db_->handle_for_tests(), SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, -1,
                              &enabled),
            SQLITE_OK);
  EXPECT_EQ(enabled, 0);
}

// One value of one row is bounded where SQLite builds it (SQLITE_LIMIT_LENGTH) and again
// before it is copied into a reply; neither kills the process nor leaves the connection broken.
TEST_F(GuardTest, HugeValuesAreRefusedBeforeTheyAreBuiltOrCopied) {
  for (const char* sql :
       {"SELECT zeroblob(1e9)", "SELECT zeroblob(1e8)", "SELECT length(randomblob(100000000))",
        "SELECT length(replace(hex(zeroblob(1500000)), '0', 'ab'))"}) {
    auto r = Q(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_NE(r.status().message().find("string or blob too big"), std::string::npos)
        << sql << ": " << r.status().message();
  }
  // Under the length limit, but more than one reply may carry: refused by name and size.
  auto r = Q("SELECT id, CAST(zeroblob(2000000) AS TEXT) AS big FROM events");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("column \"big\""), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().code(), Status::Code::kTooLarge);
  // Rows that fit until the budget is spent come back, marked truncated.
  r =
      Q("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100) "
        "SELECT x, randomblob(300000) FROM c");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->truncated);
  EXPECT_TRUE(r->byte_capped);
  EXPECT_GT(r->rows.size(), 1u);
  EXPECT_LT(r->rows.size(), 100u);
  size_t json_bytes = 0;
  for (const auto& row : r->rows) {
    for (const auto& v : row) {
      std::string json;
      AppendSqlValueJson(&json, v);
      json_bytes += json.size();
    }
  }
  EXPECT_LE(json_bytes, ReadOnlyDb::kMaxResultBytes);
  EXPECT_TRUE(Q("SELECT 1").ok());
}

// instr, replace and trim with a set of characters are quadratic in SQLite's own code, and a
// function call cannot be interrupted by the progress handler: cistern-mcp's versions of them
// look at the deadline while they work, so the timeout holds.
TEST_F(GuardTest, QuadraticFunctionsStopAtTheTimeout) {
  const std::string a = "replace(hex(zeroblob(75000)), '0', 'a')";  // 150,000 x 'a'
  const std::string b = "replace(hex(zeroblob(75000)), '0', 'b')";
  for (const std::string& sql : {
           "SELECT length(trim(" + a + ", " + b + " || 'a'))",
           "SELECT length(ltrim(" + a + ", " + b + " || 'a'))",
           "SELECT length(rtrim(" + a + ", " + b + " || 'a'))",
           std::string("SELECT instr(replace(hex(zeroblob(1000000)), '0', 'a'), "
                       "replace(hex(zeroblob(500000)), '0', 'a') || 'b')"),
           std::string("SELECT length(replace(replace(hex(zeroblob(1000000)), '0', 'a'), "
                       "replace(hex(zeroblob(500000)), '0', 'a') || 'b', 'c'))"),
       }) {
    auto start = std::chrono::steady_clock::now();
    auto r = Q(sql, 10, std::chrono::milliseconds(300));
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().code(), Status::Code::kUnavailable) << sql << ": " << r.status().message();
    EXPECT_LT(took, std::chrono::seconds(3)) << sql;
  }
  EXPECT_TRUE(Q("SELECT 1").ok());
}

// The replacements answer exactly what SQLite's own functions answer.
TEST_F(GuardTest, ReplacedFunctionsKeepSqliteResults) {
  sqlite3* plain = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &plain), SQLITE_OK);
  for (const char* expr : {"instr('hello', 'l')",
                           "instr('héllo', 'l')",
                           "instr('abc', '')",
                           "instr('', 'a')",
                           "instr(NULL, 'a')",
                           "instr('a', NULL)",
                           "instr(x'000102', x'02')",
                           "instr(x'61c3a962', 'b')",
                           "instr(12345, 34)",
                           "instr('abc', 'abcd')",
                           "replace('aXbXc', 'X', '--')",
                           "replace('abc', '', 'x')",
                           "replace('abc', 'b', NULL)",
                           "replace(NULL, 'a', 'b')",
                           "replace('aaa', 'aa', 'b')",
                           "replace(12321, 2, 'x')",
                           "typeof(replace(x'6162', 'a', 'c'))",
                           "replace('abc', x'00', 'x')",
                           "trim('xxaxx', 'x')",
                           "ltrim('xxaxx', 'x')",
                           "rtrim('xxaxx', 'x')",
                           "trim('éaé', 'é')",
                           "trim('abc', '')",
                           "trim('abc', NULL)",
                           "trim(NULL, 'a')",
                           "trim(12321, '1')",
                           "ltrim('abcba', 'ba')",
                           "rtrim('abcba', 'ab')",
                           "typeof(trim(x'616261', 'a'))",
                           "trim(x'616261', 'a')",
                           "quote(trim('', 'a'))"}) {
    const std::string sql = std::string("SELECT quote(") + expr + "), typeof(" + expr + ")";
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(plain, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW) << sql;
    const std::string want = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    const std::string want_type = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
    sqlite3_finalize(stmt);
    auto r = Q(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status().message();
    EXPECT_EQ(std::get<std::string>(r->rows[0][0]), want) << expr;
    EXPECT_EQ(std::get<std::string>(r->rows[0][1]), want_type) << expr;
  }
  sqlite3_close(plain);
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
