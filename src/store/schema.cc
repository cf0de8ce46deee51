#include "store/schema.h"

#include <fmt/format.h>

#include <random>

namespace cistern {
namespace {

// Migration N brings user_version from N-1 to N. Append only; never edit a shipped one.
constexpr const char* kMigrations[] = {
    // 1: the reference collector's tables, plus a partial index that holds exactly the
    // backlog, so the uploader finds pending events in O(batch) and start-up counts the
    // backlog in O(backlog) instead of scanning the table.
    R"sql(
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  payload_json TEXT,
  ts INTEGER NOT NULL,
  uploaded_at INTEGER);
CREATE INDEX IF NOT EXISTS events_backlog ON events(id) WHERE uploaded_at IS NULL;
CREATE TABLE IF NOT EXISTS devices(
  id INTEGER PRIMARY KEY,
  device_key TEXT NOT NULL UNIQUE,
  label TEXT,
  last_seen_at INTEGER);
CREATE TABLE IF NOT EXISTS upload_runs(
  id INTEGER PRIMARY KEY,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  event_count INTEGER NOT NULL,
  status TEXT NOT NULL,
  error TEXT);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
)sql",
};

std::string RandomNodeId() {
  std::random_device rd;
  std::uniform_int_distribution<uint64_t> dist;
  return fmt::format("{:016x}", dist(rd));
}

}  // namespace

Status ConfigureWriter(sql::Db& db) {
  // An operator's `sqlite3` write may hold the lock briefly: wait for it rather than fail.
  sqlite3_busy_timeout(db.handle(), 5000);
  auto mode = db.Prepare("PRAGMA journal_mode=WAL");
  if (!mode.ok()) return mode.status();
  auto row = (*mode)->Step();
  if (!row.ok()) return row.status();
  if (!*row || (*mode)->ColumnText(0) != "wal") {
    return Status::IoError("could not switch the database to WAL mode");
  }
  return db.Exec(
      "PRAGMA synchronous=FULL;"
      "PRAGMA journal_size_limit=67108864;"
      "PRAGMA foreign_keys=OFF;"
      "PRAGMA temp_store=MEMORY;"
      "PRAGMA cache_size=-16384;");
}

Status ConfigureReader(sql::Db& db) {
  sqlite3_busy_timeout(db.handle(), 5000);
  return Status::Ok();
}

Status Migrate(sql::Db& db, bool indexed) {
  sqlite3_busy_timeout(db.handle(), 5000);
  auto version = db.QueryInt("PRAGMA user_version");
  if (!version.ok()) return version.status();
  constexpr int kKnown = static_cast<int>(std::size(kMigrations));
  static_assert(kKnown == kSchemaVersion);
  if (*version > kKnown) {
    return Status::IoError(
        fmt::format("database schema version {} is newer than this cistern understands ({})",
                    *version, kKnown));
  }
  if (*version == 0) {
    // A fresh file, or someone else's SQLite file: refuse the latter rather than mix tables.
    auto tables = db.QueryInt(
        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name NOT IN "
        "('events','devices','upload_runs','meta')");
    if (!tables.ok()) return tables.status();
    if (*tables > 0) {
      return Status::IoError("the file holds tables that are not Cistern's; refusing to migrate");
    }
  }
  for (int v = static_cast<int>(*version); v < kKnown; ++v) {
    if (Status s = db.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    Status s = db.Exec(kMigrations[v]);
    if (s.ok() && v == 0) {
      auto put = db.Prepare("INSERT OR IGNORE INTO meta(key, value) VALUES('node_id', ?1)");
      if (!put.ok()) {
        s = put.status();
      } else {
        std::string id = RandomNodeId();
        (*put)->BindText(1, id);
        s = (*put)->Run();
      }
    }
    if (s.ok()) s = db.Exec(fmt::format("PRAGMA user_version={}", v + 1));
    if (s.ok()) {
      auto put = db.Prepare(
          "INSERT INTO meta(key, value) VALUES('schema_version', ?1) "
          "ON CONFLICT(key) DO UPDATE SET value=excluded.value");
      if (!put.ok()) {
        s = put.status();
      } else {
        std::string text = std::to_string(v + 1);
        (*put)->BindText(1, text);
        s = (*put)->Run();
      }
    }
    if (s.ok()) s = db.Exec("COMMIT");
    if (!s.ok()) {
      db.Exec("ROLLBACK");
      return Status(s.code(), fmt::format("migration {}: {}", v + 1, s.message()));
    }
  }
  if (indexed) {
    return db.Exec("CREATE INDEX IF NOT EXISTS events_device ON events(device_id)");
  }
  return Status::Ok();
}

Result<bool> HasDeviceIndex(sql::Db& db) {
  auto n =
      db.QueryInt("SELECT count(*) FROM sqlite_master WHERE type='index' AND name='events_device'");
  if (!n.ok()) return n.status();
  return *n > 0;
}

Result<std::string> ReadNodeId(sql::Db& db) {
  auto stmt = db.Prepare("SELECT value FROM meta WHERE key='node_id'");
  if (!stmt.ok()) return stmt.status();
  auto row = (*stmt)->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::IoError("meta has no node_id");
  return std::string((*stmt)->ColumnText(0));
}

}  // namespace cistern
