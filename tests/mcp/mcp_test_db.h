// Test databases for cistern-mcp: the real schema (the store's own Migrate) in a TempDir,
// filled with known rows through a separate read-write connection.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/schema.h"
#include "store/sqlite.h"
#include "support/temp_dir.h"

namespace cistern::testing {

// Creates `path` with the real schema in WAL mode and these rows, as the collector keeps them:
//   events 1..5: c (uploaded, ts 5000), a,a,a (pending, ts 1000,2000,3000), b (pending, ts 4000)
//   devices: a (3 pending), b (1 pending), c (0 pending); upload_cursor 1
//   upload_runs: 1 ok (id 1), 2 error ("sink down")
// Fails the calling test on any error.
inline void MakeTestDb(const std::string& path) {
  auto db = sql::Db::Open(path, sql::Db::Mode::kReadWrite);
  ASSERT_TRUE(db.ok()) << db.status().message();
  ASSERT_TRUE(ConfigureWriter(**db).ok());
  ASSERT_TRUE(Migrate(**db, false).ok());
  Status s = (*db)->Exec(
      "INSERT INTO event_log(device_id, kind, payload_json, ts) VALUES ('c','t','{}',5000),"
      " ('a','t','{\"v\":1}',1000), ('a','t','{\"v\":2}',2000),"
      " ('a','t',NULL,3000), ('b','alarm','{}',4000);"
      "INSERT INTO devices(device_key, label, last_seen_at, pending) VALUES ('a','a',3000,3),"
      " ('b','b',4000,1), ('c','c',5000,0);"
      "UPDATE meta SET value = '1' WHERE key = 'upload_cursor';"
      "INSERT INTO upload_runs(started_at, finished_at, event_count, status, error, first_id,"
      " last_id) VALUES (5500, 6000, 1, 'ok', NULL, 1, 1), (7000, 7100, 4, 'error', 'sink down',"
      " NULL, NULL);");
  ASSERT_TRUE(s.ok()) << s.message();
}

}  // namespace cistern::testing
