#include "store/sqlite.h"

#include <fmt/format.h>

namespace cistern::sql {

Status MapError(int rc, sqlite3* db, std::string_view what) {
  // The connection's message belongs to its last call, which may not be the one that
  // returned `rc` (a BUSY from a commit read as "not an error", issue 16.3): use it only when
  // it is about this very code.
  const char* msg =
      db && sqlite3_extended_errcode(db) == rc ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string text = fmt::format("{}: {} (sqlite code {})", what, msg, rc);
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return Status::DiskFull(std::move(text));
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return Status::IoError(std::move(text));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Busy(std::move(text));
    default:
      return Status::Internal(std::move(text));
  }
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, Mode mode) {
  sqlite3* raw = nullptr;
  int flags =
      SQLITE_OPEN_NOMUTEX |
      (mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = MapError(rc, raw, "open " + path);
    sqlite3_close_v2(raw);
    return s;
  }
  sqlite3_extended_result_codes(raw, 1);
  return std::unique_ptr<Db>(new Db(raw));
}

Db::~Db() { sqlite3_close_v2(db_); }

Status Db::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return MapError(rc, db_, text.substr(0, 60));
  return Status::Ok();
}

Result<std::unique_ptr<Stmt>> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return MapError(rc, db_, "prepare " + std::string(sql.substr(0, 60)));
  return std::make_unique<Stmt>(db_, stmt);
}

Result<int64_t> Db::QueryInt(std::string_view sql, int64_t fallback) {
  auto stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  auto row = (*stmt)->Step();
  if (!row.ok()) return row.status();
  if (!*row || (*stmt)->ColumnIsNull(0)) return fallback;
  return (*stmt)->ColumnInt(0);
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return MapError(rc, db_, "step");
}

Status Stmt::Run() {
  int rc = sqlite3_step(stmt_);
  Status s = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? Status::Ok() : MapError(rc, db_, "step");
  Reset();
  return s;
}

std::string_view Stmt::ColumnText(int i) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
  return p ? std::string_view(p, sqlite3_column_bytes(stmt_, i)) : std::string_view();
}

}  // namespace cistern::sql
