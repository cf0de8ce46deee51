#include "store/schema.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

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
    // 2: the store owns the buffer's lifecycle (docs/lifecycle.md). Shipping no longer
    // rewrites each row: an upload cursor in meta says what was shipped, and upload_runs
    // records each shipped id range, so `events` becomes a view over event_log that derives
    // uploaded_at. Per-device pending counts are kept in devices. Version-1 files are
    // converted in place: the cursor is set before the first un-uploaded event, v1 upload
    // times become run ranges, and the uploaded_at column is dropped (one table rewrite).
    R"sql(
INSERT INTO meta(key, value) VALUES('upload_cursor',
  coalesce((SELECT min(id) FROM events WHERE uploaded_at IS NULL) - 1,
           (SELECT max(id) FROM events), 0))
  ON CONFLICT(key) DO UPDATE SET value = excluded.value;
DROP INDEX IF EXISTS events_backlog;
ALTER TABLE events RENAME TO event_log;
ALTER TABLE upload_runs ADD COLUMN first_id INTEGER;
ALTER TABLE upload_runs ADD COLUMN last_id INTEGER;
ALTER TABLE upload_runs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE devices ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
CREATE TEMP TABLE v1_shipped AS
  SELECT uploaded_at AS t, min(id) AS lo, max(id) AS hi, count(*) AS n FROM event_log
  WHERE uploaded_at IS NOT NULL
    AND id <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'upload_cursor')
  GROUP BY uploaded_at;
UPDATE upload_runs SET first_id = v.lo, last_id = v.hi FROM v1_shipped AS v
  WHERE upload_runs.status = 'ok' AND upload_runs.finished_at = v.t;
INSERT INTO upload_runs(started_at, finished_at, event_count, status, first_id, last_id)
  SELECT t, t, n, 'ok', lo, hi FROM v1_shipped v WHERE NOT EXISTS
    (SELECT 1 FROM upload_runs u WHERE u.status = 'ok' AND u.finished_at = v.t);
DROP TABLE v1_shipped;
ALTER TABLE event_log DROP COLUMN uploaded_at;
INSERT INTO devices(device_key, label, pending, last_seen_at)
  SELECT device_id, device_id, count(*), max(ts) FROM event_log
  WHERE id > (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'upload_cursor')
  GROUP BY device_id
  ON CONFLICT(device_key) DO UPDATE SET pending = excluded.pending,
    last_seen_at = max(coalesce(last_seen_at, 0), excluded.last_seen_at);
CREATE INDEX upload_runs_shipped ON upload_runs(last_id) WHERE status = 'ok';
CREATE INDEX upload_runs_time ON upload_runs(finished_at) WHERE status = 'ok';
CREATE VIEW pending_events AS
  SELECT id, device_id, kind, payload_json, ts FROM event_log
  WHERE id > (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'upload_cursor');
CREATE VIEW events AS
  SELECT e.id, e.device_id, e.kind, e.payload_json, e.ts,
    CASE WHEN e.id <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'upload_cursor')
      THEN (SELECT r.finished_at FROM upload_runs r WHERE r.status = 'ok' AND r.last_id >= e.id
            ORDER BY r.last_id LIMIT 1)
    END AS uploaded_at
  FROM event_log e;
)sql",
    // 3: what the front-ends keep beside events (docs/lifecycle.md): dead letters (input that
    // was acknowledged but cannot become an event: nothing is dropped silently), and MQTT
    // sessions with their QoS 2 receipts (exactly-once into the store across reconnects and
    // restarts).
    R"sql(
CREATE TABLE IF NOT EXISTS dead_letters(
  id INTEGER PRIMARY KEY,
  received_at INTEGER NOT NULL,
  source TEXT NOT NULL,
  reason TEXT NOT NULL,
  origin TEXT,
  body BLOB);
CREATE TABLE IF NOT EXISTS mqtt_sessions(
  client_id TEXT PRIMARY KEY,
  expiry_ms INTEGER NOT NULL,
  disconnected_at INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mqtt_qos2(
  client_id TEXT NOT NULL,
  packet_id INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY(client_id, packet_id)) WITHOUT ROWID;
)sql",
};

std::string RandomNodeId() {
  std::random_device rd;
  std::uniform_int_distribution<uint64_t> dist;
  return fmt::format("{:016x}", dist(rd));
}

}  // namespace

int64_t MinDbBytes(bool indexed) {
  // sqlite_schema, event_log, devices (+ its unique index), upload_runs (+ 2 indexes), meta
  // (+ its primary-key index), dead_letters, mqtt_sessions, mqtt_qos2; events_device with
  // --indexed.
  constexpr int64_t kPageSize = 4096, kBTrees = 12, kWorkingPages = 8;
  return (kBTrees + (indexed ? 1 : 0) + kWorkingPages) * kPageSize;
}

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
  if (*version > 0 && *version < kKnown) {
    spdlog::info("migrating the database from schema version {} to {} (once)", *version, kKnown);
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
    return db.Exec("CREATE INDEX IF NOT EXISTS events_device ON event_log(device_id)");
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
