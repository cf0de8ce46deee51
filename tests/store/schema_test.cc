#include "store/schema.h"

#include <gtest/gtest.h>

#include <cctype>

#include "support/sqlite_peek.h"
#include "support/temp_dir.h"

namespace cistern::testing {
namespace {

std::unique_ptr<sql::Db> OpenDb(const std::string& path) {
  auto db = sql::Db::Open(path, sql::Db::Mode::kReadWrite);
  EXPECT_TRUE(db.ok()) << db.status().message();
  return std::move(db.value());
}

std::string PlanOf(sql::Db& db, const std::string& query) {
  auto stmt = db.Prepare("EXPLAIN QUERY PLAN " + query);
  EXPECT_TRUE(stmt.ok());
  std::string plan;
  while (*(*stmt)->Step()) plan += std::string((*stmt)->ColumnText(3)) + "\n";
  return plan;
}

TEST(SchemaTest, FreshFileGetsTheSchemaAndANodeId) {
  TempDir dir;
  auto db = OpenDb(dir.File("e.db"));
  ASSERT_TRUE(ConfigureWriter(*db).ok());
  ASSERT_TRUE(Migrate(*db, false).ok());
  EXPECT_EQ(*db->QueryInt("PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
                          "('event_log','devices','upload_runs','meta')"),
            4);
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM sqlite_master WHERE type='view' AND name IN "
                          "('events','pending_events')"),
            2);
  auto node = ReadNodeId(*db);
  ASSERT_TRUE(node.ok());
  ASSERT_EQ(node->size(), 16u);
  for (char c : *node) EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(c)));
  EXPECT_FALSE(*HasDeviceIndex(*db));
  EXPECT_EQ(*db->QueryInt("SELECT value FROM meta WHERE key = 'upload_cursor'"), 0);
}

TEST(SchemaTest, MigratingAgainChangesNothing) {
  TempDir dir;
  std::string node;
  {
    auto db = OpenDb(dir.File("e.db"));
    ASSERT_TRUE(Migrate(*db, false).ok());
    node = *ReadNodeId(*db);
    ASSERT_TRUE(db->Exec("INSERT INTO event_log(device_id, kind, ts) VALUES('a','t',1)").ok());
  }
  auto db = OpenDb(dir.File("e.db"));
  ASSERT_TRUE(Migrate(*db, true).ok());
  EXPECT_EQ(*ReadNodeId(*db), node);
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM events"), 1);
  EXPECT_TRUE(*HasDeviceIndex(*db));
}

TEST(SchemaTest, ANewerSchemaIsRefused) {
  TempDir dir;
  auto db = OpenDb(dir.File("e.db"));
  ASSERT_TRUE(Migrate(*db, false).ok());
  ASSERT_TRUE(db->Exec("PRAGMA user_version=99").ok());
  Status s = Migrate(*db, false);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("newer"), std::string::npos) << s.message();
}

TEST(SchemaTest, ThePendingEventsAreARangeOfTheRowidAndRunsAreIndexed) {
  // O(batch) upload reads, O(1) retention and the uploaded_at lookup depend on these plans.
  TempDir dir;
  auto db = OpenDb(dir.File("e.db"));
  ASSERT_TRUE(Migrate(*db, false).ok());
  EXPECT_NE(PlanOf(*db, "SELECT id FROM event_log WHERE id > 5 ORDER BY id LIMIT 500")
                .find("INTEGER PRIMARY KEY (rowid>?)"),
            std::string::npos);
  EXPECT_NE(
      PlanOf(*db, "SELECT id FROM pending_events LIMIT 500").find("INTEGER PRIMARY KEY (rowid>?)"),
      std::string::npos);
  EXPECT_NE(PlanOf(*db,
                   "SELECT last_id FROM upload_runs WHERE status = 'ok' AND finished_at <= 5 "
                   "ORDER BY finished_at DESC LIMIT 1")
                .find("upload_runs_time"),
            std::string::npos);
  EXPECT_NE(PlanOf(*db, "SELECT uploaded_at FROM events WHERE id = 3").find("upload_runs_shipped"),
            std::string::npos);
}

TEST(SchemaTest, AVersion1FileIsConvertedInPlace) {
  TempDir dir;
  const std::string path = dir.File("v1.db");
  {
    // A file as version 1 left it: three events uploaded together, one alone, two pending.
    auto db = OpenDb(path);
    ASSERT_TRUE(db->Exec(R"sql(
CREATE TABLE events(id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, kind TEXT NOT NULL,
  payload_json TEXT, ts INTEGER NOT NULL, uploaded_at INTEGER);
CREATE INDEX events_backlog ON events(id) WHERE uploaded_at IS NULL;
CREATE TABLE devices(id INTEGER PRIMARY KEY, device_key TEXT NOT NULL UNIQUE, label TEXT,
  last_seen_at INTEGER);
CREATE TABLE upload_runs(id INTEGER PRIMARY KEY, started_at INTEGER NOT NULL,
  finished_at INTEGER, event_count INTEGER NOT NULL, status TEXT NOT NULL, error TEXT);
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
INSERT INTO meta VALUES('schema_version','1'), ('node_id','00000000000000ab'),
  ('id_high_water','6');
INSERT INTO events VALUES(1,'a','t','{}',10,1000), (2,'a','t',NULL,11,1000),
  (3,'b','t','{"x":1}',12,1000), (4,'a','t','{}',13,2000), (5,'a','t','{}',14,NULL),
  (6,'c','t','{}',15,NULL);
INSERT INTO devices(device_key, label, last_seen_at) VALUES('a','a',13), ('b','b',12);
INSERT INTO upload_runs(started_at, finished_at, event_count, status, error) VALUES
  (900,1000,3,'ok',NULL), (1500,1600,1,'error','down'), (1900,2000,1,'ok',NULL);
PRAGMA user_version=1;
)sql")
                    .ok());
  }
  auto db = OpenDb(path);
  ASSERT_TRUE(Migrate(*db, false).ok());
  EXPECT_EQ(*db->QueryInt("PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(*db->QueryInt("SELECT value FROM meta WHERE key = 'upload_cursor'"), 4);
  EXPECT_EQ(*ReadNodeId(*db), "00000000000000ab");
  db.reset();
  EXPECT_EQ(QueryRows(path,
                      "SELECT group_concat(coalesce(uploaded_at, 'pending'), ',') FROM "
                      "(SELECT uploaded_at FROM events ORDER BY id)")[0][0],
            "1000,1000,1000,2000,pending,pending");
  EXPECT_EQ(QueryRows(path, "SELECT group_concat(id) FROM pending_events")[0][0], "5,6");
  EXPECT_EQ(QueryRows(path,
                      "SELECT group_concat(first_id || '-' || last_id) FROM upload_runs "
                      "WHERE status = 'ok' ORDER BY id")[0][0],
            "1-3,4-4");
  EXPECT_EQ(QueryRows(path,
                      "SELECT group_concat(device_key || '=' || pending) FROM "
                      "(SELECT * FROM devices ORDER BY device_key)")[0][0],
            "a=1,b=0,c=1");
  EXPECT_EQ(QueryInt(path,
                     "SELECT count(*) FROM pragma_table_info('event_log') WHERE "
                     "name = 'uploaded_at'"),
            0)
      << "the per-row column is gone";
  EXPECT_EQ(QueryRows(path, "PRAGMA integrity_check")[0][0], "ok");
}

}  // namespace
}  // namespace cistern::testing
