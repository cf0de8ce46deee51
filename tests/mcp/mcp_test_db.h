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

// Creates `path` with the real schema in WAL mode and these rows:
//   events 1..5: a,a,a (pending, ts 1000,2000,3000), b (pending, ts 4000), c (uploaded, ts 5000)
//   upload_runs: 1 ok (1 event), 2 error ("sink down")
// Fails the calling test on any error.
inline void MakeTestDb(const std::string& path) {
  auto db = sql::Db::Open(path, sql::Db::Mode::kReadWrite);
  ASSERT_TRUE(db.ok()) << db.status().message();
  ASSERT_TRUE(ConfigureWriter(**db).ok());
  ASSERT_TRUE(Migrate(**db, false).ok());
  Status s = (*db)->Exec(
      "INSERT INTO events(device_id, kind, payload_json, ts, uploaded_at) VALUES"
      " ('a','t','{\"v\":1}',1000,NULL), ('a','t','{\"v\":2}',2000,NULL),"
      " ('a','t',NULL,3000,NULL), ('b','alarm','{}',4000,NULL), ('c','t','{}',5000,6000);"
      "INSERT INTO devices(device_key, label, last_seen_at) VALUES ('a','a',3000),"
      " ('b','b',4000), ('c','c',5000);"
      "INSERT INTO upload_runs(started_at, finished_at, event_count, status, error) VALUES"
      " (5500, 6000, 1, 'ok', NULL), (7000, 7100, 4, 'error', 'sink down');");
  ASSERT_TRUE(s.ok()) << s.message();
}

}  // namespace cistern::testing
