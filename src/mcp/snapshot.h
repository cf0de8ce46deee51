// --snapshot: a private copy of the live database, made with SQLite's online backup API, that
// cistern-mcp then serves every query from, so long analyses never pin the live WAL
// (docs/mcp.md, "Snapshot mode"). Not thread-safe; called once at start-up.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace cistern::mcp {

struct SnapshotFile {
  std::string path;  // the copy: a new file in the directory asked for, mode 0600
  int64_t bytes = 0;
  int64_t copy_ms = 0;
};

// Copies `live_path` into a new file `dir`/cistern-mcp-snapshot-XXXXXX. The source is opened
// read-only (never created) and read inside one read transaction, so the copy is one
// consistent state even while the collector writes; in WAL mode that reader never blocks the
// collector, it only keeps it from resetting the WAL until the copy ends. Pages are copied
// in steps of kPagesPerStep. The copy is left in rollback-journal mode, so a read-only
// connection can read it without -wal and -shm files, and the caller may unlink it once it
// has opened it. Errors: IoError naming the file (source missing or unreadable, `dir` not
// writable, disk full); no partial copy is left behind.
Result<SnapshotFile> CopyDatabase(const std::string& live_path, const std::string& dir);

// Pages (of the source's page size) copied per sqlite3_backup_step call.
inline constexpr int kPagesPerStep = 4096;

}  // namespace cistern::mcp
