#include "store/schema.h"

#include <gtest/gtest.h>

#include <cctype>

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
                          "('events','devices','upload_runs','meta')"),
            4);
  auto node = ReadNodeId(*db);
  ASSERT_TRUE(node.ok());
  ASSERT_EQ(node->size(), 16u);
  for (char c : *node) EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(c)));
  EXPECT_FALSE(*HasDeviceIndex(*db));
}

TEST(SchemaTest, MigratingAgainChangesNothing) {
  TempDir dir;
  std::string node;
  {
    auto db = OpenDb(dir.File("e.db"));
    ASSERT_TRUE(Migrate(*db, false).ok());
    node = *ReadNodeId(*db);
    ASSERT_TRUE(db->Exec("INSERT INTO events(device_id, kind, ts) VALUES('a','t',1)").ok());
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

TEST(SchemaTest, TheBacklogIsReadThroughThePartialIndex) {
  // O(batch) upload reads and O(backlog) start-up counts depend on this plan.
  TempDir dir;
  auto db = OpenDb(dir.File("e.db"));
  ASSERT_TRUE(Migrate(*db, false).ok());
  EXPECT_NE(PlanOf(*db, "SELECT id FROM events WHERE uploaded_at IS NULL ORDER BY id LIMIT 500")
                .find("events_backlog"),
            std::string::npos);
  EXPECT_NE(
      PlanOf(*db, "SELECT count(*) FROM events WHERE uploaded_at IS NULL").find("events_backlog"),
      std::string::npos);
}

}  // namespace
}  // namespace cistern::testing
