// ReadOnlyDb: the read-only SQL guard and bounded query runner behind every cistern-mcp tool.
//
// It reads the collector's live database without ever writing to it, in layers, so that no
// single mistake opens a write path:
//   1. the file is opened with SQLITE_OPEN_READONLY (never created; the collector's
//      `<db>.lock` is never touched), extensions and ATTACH are disabled by limit and config;
//   2. PRAGMA query_only=1;
//   3. exactly one statement is prepared; anything after it but whitespace, comments and
//      semicolons is refused;
//   4. a statement for which sqlite3_stmt_readonly() is false is refused (VACUUM INTO,
//      PRAGMA x=y, BEGIN, ...);
//   5. an authorizer denies every action but SELECT/READ/recursive CTEs, an allow-list of
//      functions and virtual tables (sql_guard.h) and a short allow-list of read-only pragmas;
//      the FTS3 tokenizer switch is off as well.
// Every query is bounded (docs/mcp.md, "Limits"):
//   - no value SQLite builds may exceed kMaxValueBytes (SQLITE_LIMIT_LENGTH: "string or blob
//     too big"), and LIKE/GLOB patterns kMaxLikePatternBytes;
//   - at most `max_rows` rows, whose values take at most kMaxResultBytes as JSON, are kept;
//     each value's size is checked before it is copied;
//   - a progress handler interrupts the statement after `timeout`, and the quadratic string
//     functions look at the same deadline (sql_functions.h).
// Statements are finalized before Query returns, so no read transaction stays open between
// calls and the collector's checkpoints can reset the WAL.
//
// Thread-safety: not thread-safe; one owner thread (cistern-mcp serves stdin serially).
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "mcp/sql_functions.h"
#include "mcp/wal_watch.h"

namespace cistern::mcp {

struct Blob {
  std::string bytes;
};
// One SQLite value: NULL, INTEGER, REAL, TEXT or BLOB.
using SqlValue = std::variant<std::nullptr_t, int64_t, double, std::string, Blob>;

// Appends `v` as JSON: NULL -> null, INTEGER/REAL -> number (REAL in shortest round-trip
// form; NaN/Inf -> null), TEXT -> string, BLOB -> "base64:<...>".
void AppendSqlValueJson(std::string* out, const SqlValue& v);
// The number of bytes AppendSqlValueJson appends for `v`.
size_t SqlValueJsonSize(const SqlValue& v);

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;
  bool truncated = false;    // more rows existed than were kept (row or byte cap)
  bool byte_capped = false;  // truncated because the next row did not fit kMaxResultBytes
  int64_t elapsed_ms = 0;    // the statement's run, from the first step to the last row
  int64_t waited_ms = 0;     // waited before it for the collector to rewind its WAL
};

struct QueryLimits {
  int64_t max_rows = 1000;
  std::chrono::milliseconds timeout{5000};
  // Before the statement starts, wait up to this long for the live file's WAL to be short
  // (WalWatch): 0 starts at once. Not part of `timeout`.
  std::chrono::milliseconds wal_wait{0};
  // Interrupt the statement once the collector has written this many bytes to the live file's
  // WAL since the statement started (frames it cannot copy or rewind while the statement
  // reads): a bound on the harm one read does, whatever the load. 0: no bound.
  int64_t wal_budget_bytes = 0;
};

class ReadOnlyDb {
 public:
  // The most bytes the values of one result take as JSON (AppendSqlValueJson); the rows
  // before the first that does not fit are kept (truncated = byte_capped = true).
  static constexpr size_t kMaxResultBytes = 4 << 20;
  // The longest string or BLOB SQLite may build on this connection (SQLITE_LIMIT_LENGTH):
  // twice the collector's default --max-body-bytes, so every stored event can be read.
  static constexpr int kMaxValueBytes = 2 << 20;
  // The longest LIKE or GLOB pattern (SQLITE_LIMIT_LIKE_PATTERN_LENGTH): matching takes up to
  // (value length x pattern length) steps in one uninterruptible call.
  static constexpr int kMaxLikePatternBytes = 256;

  // Opens `path` read-only and checks that it is an SQLite database. Errors: IoError naming
  // the file when it is missing, unreadable or not a database. Never creates the file.
  static Result<std::unique_ptr<ReadOnlyDb>> Open(const std::string& path);
  ~ReadOnlyDb();
  ReadOnlyDb(const ReadOnlyDb&) = delete;
  ReadOnlyDb& operator=(const ReadOnlyDb&) = delete;

  // WAL frames under which a query starts at once (QueryLimits::wal_wait): a little above the
  // collector's in-commit checkpoint size (docs/storage.md, "Checkpoints"), so a WAL its
  // writer keeps short never makes a query wait.
  static constexpr uint32_t kShortWalFrames = 2048;

  // Runs one read-only statement with `params` bound to ?1, ?2, ... and returns its columns
  // and up to limits.max_rows rows. TEXT values and column names are made valid UTF-8
  // (utf8.h). Errors (InvalidArgument unless noted), each with a message meant for the
  // person or assistant who wrote the SQL (valid UTF-8 too):
  //  - empty SQL, more than one statement, an SQL error (syntax, unknown table, a value over
  //    kMaxValueBytes: "string or blob too big", ...);
  //  - a statement that would write or is not allowed (the message names what was refused);
  //  - TooLarge: the first row alone, or the column names, exceed kMaxResultBytes (the
  //    message names the column and the size);
  //  - Unavailable: the timeout passed, or the WAL grew past limits.wal_budget_bytes while it
  //    ran (the query was interrupted; the message says which);
  //  - IoError / Busy: the file could not be read; Internal: SQLite ran out of memory.
  Result<QueryResult> Query(std::string_view sql, const QueryLimits& limits,
                            const std::vector<SqlValue>& params = {});

  // True while the connection holds a read (or any) transaction. Query never leaves one
  // open; tests check that, since an open reader pins the WAL against checkpoint resets.
  bool InTransaction() const { return sqlite3_txn_state(db_, nullptr) != SQLITE_TXN_NONE; }

  const std::string& path() const { return path_; }
  // The connection, for tests that inspect its configuration. Never use it to run SQL.
  sqlite3* handle_for_tests() const { return db_; }

 private:
  ReadOnlyDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)), wal_(path_) {}
  static int Authorize(void* self, int action, const char* a1, const char* a2, const char* db,
                       const char* trigger);
  static int Progress(void* self);
  Result<sqlite3_stmt*> PrepareOne(std::string_view sql);
  Status StepError(int rc, const QueryLimits& limits);
  // Steps `stmt` to its end or a cap, copying rows into *out.
  Status CollectRows(sqlite3_stmt* stmt, const QueryLimits& limits, QueryResult* out);

  sqlite3* const db_;       // constant after construction; owned
  const std::string path_;  // constant after construction
  WalWatch wal_;
  // Per-query state, set by Query and read by the SQLite callbacks it triggers.
  std::string denied_;  // why the authorizer first refused, "" when it did not
  QueryClock clock_;    // the running statement's deadline (read by the callbacks)
  struct WalBudget {
    int64_t bytes = 0;          // 0: none
    uint32_t start_frames = 0;  // the WAL's frames when the statement started
    int64_t grown_bytes = 0;    // as of the last check
    bool exceeded = false;      // set by the check that found grown_bytes > bytes
    std::chrono::steady_clock::time_point next_check;
  } wal_budget_;  // the running statement's (read by Progress)
  bool WalBudgetExceeded();
};

}  // namespace cistern::mcp
