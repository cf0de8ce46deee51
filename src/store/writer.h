// Writer: the thread that owns the read-write connection and does group commit.
//
// Every request queued while a commit is in flight joins the next transaction, so one fsync
// serves many requests. A group is capped (requests and events) so one transaction never
// grows without bound. Each request is completed only after its COMMIT returned, and every
// request of a group gets the group's status (the LevelDB rule): there are no partial groups.
//
// Failure policy (STYLE.md habit 6):
//  - SQLITE_FULL: the transaction was rolled back cleanly; the group gets DiskFull (507) and
//    later groups are tried again as usual, so ingest resumes when space returns.
//  - SQLITE_BUSY (another process holds the write lock past the busy timeout): Unavailable,
//    not sticky.
//  - Any other error (I/O error, failed fsync, corruption): the file state is unknown, so the
//    error is sticky: this and every later request fail until the store is reopened.
//
// Checkpoints: see OnWalCommit (small PASSIVE checkpoints in the writer, measured to beat a
// background checkpointer here), plus a TRUNCATE checkpoint at Stop.
//
// Thread-safety: Submit and Stop may be called from any thread. The connection, the prepared
// statements and the device set are touched only by the writer thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>

#include "common/status.h"
#include "event/event.h"
#include "store/counters.h"
#include "store/sqlite.h"

namespace cistern {

struct AppendResult {
  Status status;
  int64_t first_id = 0;  // ids of the request are first_id .. first_id + count - 1
  size_t count = 0;
};
// Called exactly once per request, on the writer thread (or inline on rejection). Must not
// block: post the answer to the connection's executor and return.
using AppendCallback = std::function<void(const AppendResult&)>;

struct WriterLimits {
  size_t max_group_requests = 1024;
  size_t max_group_events = 20'000;
  // WAL size (frames) at which a commit runs a PASSIVE checkpoint (SQLite's default: 1000).
  int checkpoint_frames = 1000;
};

class Writer {
 public:
  // Takes the migrated, configured connection. Reads the id high-water mark, the backlog and
  // the device set (O(backlog + devices), never a table scan) into `counters`, then starts
  // the thread. `counters` must outlive the Writer.
  static Result<std::unique_ptr<Writer>> Start(std::unique_ptr<sql::Db> db, WriterLimits limits,
                                               StoreCounters* counters);
  ~Writer();  // Stop()s if needed.

  // Queues a request. `done` runs after its group's COMMIT (or failure). After Stop() began,
  // completes at once with Unavailable.
  void Submit(EventBatch batch, AppendCallback done);

  // Commits everything already queued, stops the thread, runs a final TRUNCATE checkpoint and
  // closes the connection. Idempotent.
  void Stop();

  // Requests not yet picked up by the writer thread.
  size_t QueueDepth() const;

 private:
  struct Request {
    EventBatch batch;
    AppendCallback done;
  };

  Writer(std::unique_ptr<sql::Db> db, WriterLimits limits, StoreCounters* counters);
  Status Restore();
  // Persists next_id_ - 1 as meta.id_high_water (at start-up and clean stop), so ids stay
  // unique even when the newest rows are deleted while the collector is stopped. (Rows
  // deleted by hand while it runs, followed by a crash, are the one gap: retention, which
  // deletes in-process, must update the mark in its own transaction.)
  Status SaveHighWater();
  void Run();
  // Writes one group in one transaction; returns the status every request of it gets.
  Status CommitGroup(std::deque<Request>& group, std::vector<int64_t>* first_ids);
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int frames);

  // Constant after construction.
  const WriterLimits limits_;
  StoreCounters* const counters_;

  // Writer thread only.
  std::unique_ptr<sql::Db> db_;
  std::unique_ptr<sql::Stmt> insert_;
  int64_t next_id_ = 1;
  Status sticky_error_;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_set<std::string, StringHash, std::equal_to<>> devices_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> queue_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  std::thread thread_;
};

}  // namespace cistern
