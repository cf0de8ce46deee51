// Thin RAII wrappers over the SQLite C API, and the one place SQLite result codes are mapped
// to Status. Non-copyable; a Db and its Stmts belong to one thread at a time (SQLite is built
// thread-safe, but our connections are never shared: one owner per connection).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cistern::sql {

// Maps an SQLite result code to a Status: SQLITE_FULL -> DiskFull (the transaction was rolled
// back cleanly), IOERR/CORRUPT/NOTADB/CANTOPEN -> IoError (file state unknown), BUSY/LOCKED ->
// Busy, anything else -> Internal. `what` says what we were doing; `db` (may be null) supplies
// sqlite3_errmsg.
Status MapError(int rc, sqlite3* db, std::string_view what);

class Stmt;

class Db {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // Opens (kReadWrite creates) the file. On failure returns the mapped error.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, Mode mode);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* handle() const { return db_; }

  // Runs one or more statements without results (DDL, PRAGMA with no rows, BEGIN/COMMIT).
  Status Exec(std::string_view sql);
  // Prepares a statement meant to be reused (SQLITE_PREPARE_PERSISTENT).
  Result<std::unique_ptr<Stmt>> Prepare(std::string_view sql);
  // Runs a query returning one integer (e.g. SELECT count(*), PRAGMA user_version).
  // Returns `fallback` when the query returns no row or NULL.
  Result<int64_t> QueryInt(std::string_view sql, int64_t fallback = 0);

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// A prepared statement. Bind indexes are 1-based, as in SQLite. Text is bound SQLITE_STATIC:
// the caller keeps the bytes alive until the statement is reset.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  void BindInt(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindText(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }

  // Steps once. Returns true when a row is available, false when done; errors mapped.
  Result<bool> Step();
  // Steps to completion, expecting no rows to matter; resets the statement afterwards.
  Status Run();
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  int64_t ColumnInt(int i) const { return sqlite3_column_int64(stmt_, i); }
  bool ColumnIsNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  std::string_view ColumnText(int i) const;
  sqlite3_stmt* handle() const { return stmt_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

}  // namespace cistern::sql
