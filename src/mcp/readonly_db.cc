#include "mcp/readonly_db.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include "common/duration.h"
#include "common/utf8.h"
#include "mcp/sql_guard.h"

namespace cistern::mcp {
namespace {

// How many SQLite VM instructions run between two looks at the clock.
constexpr int kProgressEveryOps = 1000;
// How often the progress handler reads the WAL's size for QueryLimits::wal_budget_bytes.
constexpr auto kWalBudgetCheckEvery = std::chrono::milliseconds(10);

// True when `tail` holds only whitespace, semicolons and SQL comments.
bool OnlyNoise(std::string_view tail) {
  size_t i = 0;
  while (i < tail.size()) {
    char c = tail[i];
    if (c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
    } else if (tail.substr(i, 2) == "--") {
      size_t nl = tail.find('\n', i);
      i = nl == std::string_view::npos ? tail.size() : nl + 1;
    } else if (tail.substr(i, 2) == "/*") {
      size_t end = tail.find("*/", i + 2);
      i = end == std::string_view::npos ? tail.size() : end + 2;
    } else {
      return false;
    }
  }
  return true;
}

struct StmtCloser {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtCloser>;

// The bytes a TEXT or BLOB column holds (0 for other types), without converting it.
size_t ColumnBytes(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_TEXT:
      sqlite3_column_text(stmt, i);  // the documented order: the pointer, then its size
      return static_cast<size_t>(sqlite3_column_bytes(stmt, i));
    case SQLITE_BLOB:
      sqlite3_column_blob(stmt, i);
      return static_cast<size_t>(sqlite3_column_bytes(stmt, i));
    default:
      return 0;
  }
}

SqlValue Column(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, i);
    case SQLITE_TEXT: {
      auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      return ValidUtf8(std::string_view(p ? p : "", sqlite3_column_bytes(stmt, i)));
    }
    case SQLITE_BLOB: {
      auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, i));
      return Blob{std::string(p ? p : "", sqlite3_column_bytes(stmt, i))};
    }
    default:
      return nullptr;
  }
}

std::string ErrMsg(sqlite3* db) { return ValidUtf8(sqlite3_errmsg(db)); }

}  // namespace

Result<std::unique_ptr<ReadOnlyDb>> ReadOnlyDb::Open(const std::string& path) {
  // SQLITE_OPEN_READONLY never creates the main file; say plainly when it is not there.
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::IoError(fmt::format("{}: no such database file", path));
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = Status::IoError(fmt::format("{}: cannot open read-only: {}", path,
                                           raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    sqlite3_close_v2(raw);
    return s;
  }
  std::unique_ptr<ReadOnlyDb> db(new ReadOnlyDb(raw, path));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_db_config(raw, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_db_config(raw, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(raw, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  // fts3_tokenizer('name', ptr) would register a pointer; the authorizer refuses the function
  // as well (its one-argument form returns a pointer whatever this says).
  sqlite3_db_config(raw, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, nullptr);
  sqlite3_limit(raw, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(raw, SQLITE_LIMIT_LENGTH, kMaxValueBytes);
  sqlite3_limit(raw, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, kMaxLikePatternBytes);
  if (Status s = RegisterInterruptibleFunctions(raw, &db->clock_); !s.ok()) return s;
  // A WAL reader waits only while the collector runs recovery or resets the WAL index.
  sqlite3_busy_timeout(raw, 2000);
  char* err = nullptr;
  rc = sqlite3_exec(raw, "PRAGMA query_only=1", nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return Status::Internal("PRAGMA query_only=1 failed");
  // Build the allowed virtual tables now, before the authorizer (see sql_guard.h).
  for (const std::string& table : AllowedVirtualTables()) {
    sqlite3_stmt* warm = nullptr;
    std::string sql = "SELECT * FROM " + table + " LIMIT 0";
    sqlite3_prepare_v2(raw, sql.c_str(), -1, &warm, nullptr);  // errors ignored: warm-up only
    sqlite3_finalize(warm);
  }
  sqlite3_set_authorizer(raw, &ReadOnlyDb::Authorize, db.get());
  // Touch the schema now so that a file that is not a database fails at start-up.
  auto probe =
      db->Query("SELECT count(*) FROM sqlite_schema", QueryLimits{1, std::chrono::seconds(5)});
  if (!probe.ok()) {
    return Status::IoError(
        fmt::format("{}: not a readable SQLite database: {}", path, probe.status().message()));
  }
  return db;
}

ReadOnlyDb::~ReadOnlyDb() { sqlite3_close_v2(db_); }

int ReadOnlyDb::Authorize(void* self, int action, const char* a1, const char* a2, const char*,
                          const char*) {
  auto* db = static_cast<ReadOnlyDb*>(self);
  std::string why;
  int verdict = AuthorizeReadOnly(action, a1, a2, &why);
  if (verdict != SQLITE_OK && db->denied_.empty()) db->denied_ = ValidUtf8(why);
  return verdict;
}

int ReadOnlyDb::Progress(void* self) {
  auto* db = static_cast<ReadOnlyDb*>(self);
  return db->clock_.Expired() || db->WalBudgetExceeded() ? 1 : 0;  // 1: SQLITE_INTERRUPT
}

bool ReadOnlyDb::WalBudgetExceeded() {
  WalBudget& b = wal_budget_;
  if (b.bytes <= 0) return false;
  auto now = std::chrono::steady_clock::now();
  if (now < b.next_check) return b.exceeded;
  b.next_check = now + kWalBudgetCheckEvery;
  auto wal = wal_.Read();
  if (!wal) return b.exceeded;
  // While this statement reads, the WAL is not rewound unless it started with every frame
  // copied (then SQLite reads it from the database file alone): frames counted from 0 again.
  int64_t grown = wal->frames >= b.start_frames ? wal->frames - b.start_frames : wal->frames;
  b.grown_bytes = wal->FrameBytes(grown);
  if (b.grown_bytes > b.bytes) b.exceeded = true;
  return b.exceeded;
}

Result<sqlite3_stmt*> ReadOnlyDb::PrepareOne(std::string_view sql) {
  denied_.clear();
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), 0, &raw, &tail);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) {
    if (!denied_.empty())
      return Status::InvalidArgument("refused: " + denied_ + "; cistern-mcp is read-only");
    return Status::InvalidArgument(fmt::format("SQL error: {}", ErrMsg(db_)));
  }
  if (!stmt) return Status::InvalidArgument("no SQL statement given");
  std::string_view rest(tail, sql.data() + sql.size() - tail);
  if (!OnlyNoise(rest)) {
    return Status::InvalidArgument(
        "refused: more than one statement; send exactly one read-only statement");
  }
  if (!sqlite3_stmt_readonly(stmt.get())) {
    return Status::InvalidArgument(
        "refused: the statement would write or change state; cistern-mcp is read-only");
  }
  return stmt.release();
}

Status ReadOnlyDb::StepError(int rc, const QueryLimits& limits) {
  if ((rc & 0xff) == SQLITE_INTERRUPT && clock_.timed_out) {
    return Status::Unavailable(fmt::format(
        "query timed out after {} ms (--query-timeout) and was interrupted; narrow it with a "
        "WHERE on id or ts, or a LIMIT",
        limits.timeout.count()));
  }
  if ((rc & 0xff) == SQLITE_INTERRUPT && wal_budget_.exceeded) {
    return Status::Unavailable(fmt::format(
        "query stopped: while it read the live database the collector wrote {} to its WAL, "
        "which it cannot copy or rewind until the query ends (--wal-budget {}); run long "
        "analyses with cistern-mcp --snapshot, or narrow it with a WHERE on id or ts",
        FormatSize(static_cast<uint64_t>(wal_budget_.grown_bytes)),
        FormatSize(static_cast<uint64_t>(wal_budget_.bytes))));
  }
  if (!denied_.empty())
    return Status::InvalidArgument("refused: " + denied_ + "; cistern-mcp is read-only");
  std::string msg = fmt::format("SQL error: {} (sqlite code {})", ErrMsg(db_), rc);
  switch (rc & 0xff) {
    case SQLITE_TOOBIG:
      return Status::InvalidArgument(
          fmt::format("{}: cistern-mcp lets no string or BLOB grow beyond {} bytes; select "
                      "length() or substr() of long values",
                      msg, kMaxValueBytes));
    case SQLITE_NOMEM:
      return Status::Internal(msg + ": the query needs more memory than cistern-mcp allows " +
                              "SQLite; select fewer or smaller values");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Busy(std::move(msg));
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
      return Status::IoError(std::move(msg));
    default:
      return Status::InvalidArgument(std::move(msg));
  }
}

Status ReadOnlyDb::CollectRows(sqlite3_stmt* stmt, const QueryLimits& limits, QueryResult* out) {
  const int ncols = sqlite3_column_count(stmt);
  size_t used = 0;  // JSON bytes of the values kept so far
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (static_cast<int64_t>(out->rows.size()) >= limits.max_rows) {
      out->truncated = true;
      break;
    }
    std::vector<SqlValue> row;
    row.reserve(ncols);
    size_t row_bytes = 0;
    int too_big = -1;  // the column that did not fit
    size_t too_big_bytes = 0;
    for (int i = 0; i < ncols; ++i) {
      // Check the raw size before copying: its JSON form is never smaller.
      const size_t raw = ColumnBytes(stmt, i);
      if (used + row_bytes + raw > kMaxResultBytes) {
        too_big = i;
        too_big_bytes = raw;
        break;
      }
      row.push_back(Column(stmt, i));
      row_bytes += SqlValueJsonSize(row.back()) + 1;
      if (used + row_bytes > kMaxResultBytes) {
        too_big = i;
        too_big_bytes = SqlValueJsonSize(row.back());
        break;
      }
    }
    if (too_big >= 0) {
      if (out->rows.empty()) {
        return Status::TooLarge(fmt::format(
            "row 1, column \"{}\": a value of {} bytes does not fit in one answer (at most {} "
            "bytes of values as JSON); select length() or substr() of it instead",
            out->columns[too_big], too_big_bytes, kMaxResultBytes));
      }
      out->truncated = true;
      out->byte_capped = true;
      break;
    }
    used += row_bytes;
    out->rows.push_back(std::move(row));
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return StepError(rc, limits);
  return Status::Ok();
}

Result<QueryResult> ReadOnlyDb::Query(std::string_view sql, const QueryLimits& limits,
                                      const std::vector<SqlValue>& params) {
  // Preparing reads the schema in a transaction of its own, which ends at once; the statement's
  // read transaction starts with its first step, after the wait.
  auto prepared = PrepareOne(sql);
  if (!prepared.ok()) return prepared.status();
  StmtPtr stmt(*prepared);  // finalized on every return: no read transaction outlives Query
  const int64_t waited_ms = limits.wal_wait.count() > 0
                                ? wal_.WaitUntilShort(kShortWalFrames, limits.wal_wait).count()
                                : 0;
  auto start = std::chrono::steady_clock::now();
  clock_ = QueryClock{start + limits.timeout, false};
  wal_budget_ = WalBudget{};
  if (limits.wal_budget_bytes > 0) {
    if (auto wal = wal_.Read()) {  // no wal-index: not the live file of a running collector
      wal_budget_.bytes = limits.wal_budget_bytes;
      wal_budget_.start_frames = wal->frames;
      wal_budget_.next_check = start + kWalBudgetCheckEvery;
    }
  }
  for (size_t i = 0; i < params.size(); ++i) {
    int idx = static_cast<int>(i + 1);
    const SqlValue& p = params[i];
    if (auto* n = std::get_if<int64_t>(&p)) {
      sqlite3_bind_int64(stmt.get(), idx, *n);
    } else if (auto* s = std::get_if<std::string>(&p)) {
      sqlite3_bind_text(stmt.get(), idx, s->data(), static_cast<int>(s->size()), SQLITE_STATIC);
    } else if (auto* d = std::get_if<double>(&p)) {
      sqlite3_bind_double(stmt.get(), idx, *d);
    } else {
      sqlite3_bind_null(stmt.get(), idx);
    }
  }
  QueryResult out;
  const int ncols = sqlite3_column_count(stmt.get());
  size_t names_bytes = 0;
  for (int i = 0; i < ncols; ++i) {
    const char* name = sqlite3_column_name(stmt.get(), i);
    out.columns.push_back(ValidUtf8(name ? name : ""));
    names_bytes += out.columns.back().size();
  }
  if (names_bytes > kMaxResultBytes) {
    return Status::TooLarge(
        fmt::format("the {} column names take {} bytes, more than one answer "
                    "holds ({}); name the columns with short aliases",
                    ncols, names_bytes, kMaxResultBytes));
  }
  sqlite3_progress_handler(db_, kProgressEveryOps, &ReadOnlyDb::Progress, this);
  Status collected = CollectRows(stmt.get(), limits, &out);
  sqlite3_progress_handler(db_, 0, nullptr, nullptr);
  if (!collected.ok()) return collected;
  out.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  out.waited_ms = waited_ms;
  return out;
}

}  // namespace cistern::mcp
