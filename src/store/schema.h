// The on-disk schema (docs/storage.md) and its numbered migrations (PRAGMA user_version).
// Called once per database by the store's opener, on the connection that will become the
// writer's, before any other thread touches the file.
#pragma once

#include <string>

#include "common/status.h"
#include "store/sqlite.h"

namespace cistern {

// The schema version this build writes and understands.
inline constexpr int kSchemaVersion = 3;

// The smallest --max-db-bytes that leaves the schema (one page per table and index, at the
// default page size) at least 8 pages of working room.
int64_t MinDbBytes(bool indexed);

// Sets the writer connection's pragmas: WAL, synchronous=FULL, journal_size_limit, and a 5 s
// busy timeout. (The
// writer installs its own WAL hook, which replaces SQLite's auto-checkpoint.)
Status ConfigureWriter(sql::Db& db);

// Sets a reader connection's pragmas (busy timeout; reads never block the writer in WAL).
Status ConfigureReader(sql::Db& db);

// Brings the file to kSchemaVersion, each migration in its own transaction. Creates the
// events(device_id) index when `indexed`. Fails (IoError/Internal) without changing anything
// when the file is newer than this build, or is not a Cistern database.
Status Migrate(sql::Db& db, bool indexed);

// True when the events(device_id) index exists (it is kept once created).
Result<bool> HasDeviceIndex(sql::Db& db);

// This database's node id (random, created by the first migration, kept in `meta`).
Result<std::string> ReadNodeId(sql::Db& db);

}  // namespace cistern
