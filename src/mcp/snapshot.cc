#include "mcp/snapshot.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

namespace cistern::mcp {
namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

// Removes the copy and any file SQLite put beside it, unless Keep() was called.
class RemoveUnlessKept {
 public:
  explicit RemoveUnlessKept(std::string path) : path_(std::move(path)) {}
  ~RemoveUnlessKept() {
    for (const char* suffix : {"-journal", "-wal", "-shm"}) unlink((path_ + suffix).c_str());
    if (!kept_) unlink(path_.c_str());
  }
  void Keep() { kept_ = true; }

 private:
  std::string path_;
  bool kept_ = false;
};

Status Exec(sqlite3* db, const char* sql, const std::string& what) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  if (rc == SQLITE_OK) return Status::Ok();
  return Status::IoError(fmt::format("{}: {}", what, msg));
}

Result<DbPtr> OpenDb(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return Status::IoError(
        fmt::format("{}: cannot open: {}", path, raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

}  // namespace

Result<SnapshotFile> CopyDatabase(const std::string& live_path, const std::string& dir) {
  const auto start = std::chrono::steady_clock::now();
  struct stat st;
  if (stat(live_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::IoError(fmt::format("{}: no such database file", live_path));
  }
  std::string path = dir + "/cistern-mcp-snapshot-XXXXXX";
  int fd = mkstemp(path.data());  // mode 0600
  if (fd < 0) {
    return Status::IoError(
        fmt::format("{}: cannot create a snapshot file: {}", dir, std::strerror(errno)));
  }
  close(fd);
  RemoveUnlessKept cleanup(path);

  auto src = OpenDb(live_path, SQLITE_OPEN_READONLY);
  if (!src.ok()) return src.status();
  sqlite3_busy_timeout(src->get(), 2000);  // only while the collector recovers or resets the WAL
  auto dst = OpenDb(path, SQLITE_OPEN_READWRITE);
  if (!dst.ok()) return dst.status();
  // A private scratch copy: no journal while it is written, no fsync.
  if (Status s = Exec(dst->get(), "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", path);
      !s.ok()) {
    return s;
  }
  // One read transaction for the whole copy: without it every step would take a new snapshot,
  // and the backup restarts whenever the collector committed in between (always, under load).
  if (Status s = Exec(src->get(), "BEGIN; SELECT count(*) FROM sqlite_schema", live_path);
      !s.ok()) {
    return s;
  }
  sqlite3_backup* backup = sqlite3_backup_init(dst->get(), "main", src->get(), "main");
  if (backup == nullptr) {
    return Status::IoError(
        fmt::format("{}: cannot start the copy: {}", path, sqlite3_errmsg(dst->get())));
  }
  int rc;
  while ((rc = sqlite3_backup_step(backup, kPagesPerStep)) == SQLITE_OK) {
  }
  sqlite3_backup_finish(backup);
  (void)Exec(src->get(), "COMMIT", live_path);  // ends the read transaction; cannot fail
  if (rc != SQLITE_DONE) {
    return Status::IoError(
        fmt::format("copying {} to {}: {}", live_path, path, sqlite3_errstr(rc)));
  }
  // The copied header says WAL, like the source: switch the copy to a rollback journal.
  if (Status s = Exec(dst->get(), "PRAGMA journal_mode=DELETE", path); !s.ok()) return s;
  dst.value().reset();
  src.value().reset();
  if (stat(path.c_str(), &st) != 0) {
    return Status::IoError(fmt::format("{}: the copy vanished: {}", path, std::strerror(errno)));
  }
  cleanup.Keep();
  SnapshotFile out;
  out.path = path;
  out.bytes = st.st_size;
  out.copy_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count();
  return out;
}

}  // namespace cistern::mcp
