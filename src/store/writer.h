// Writer: group mode. The thread that owns the read-write connection and does group commit.
//
// Every request and op queued while a commit is in flight joins the next transaction, so one
// fsync serves many requests. A group is capped (requests and events) so one transaction
// never grows without bound. Each request is completed only after its COMMIT returned, and
// every request of a group gets the group's status (the LevelDB rule): there are no partial
// groups, except that BufferPolicy may refuse one arriving request (nothing of it is stored)
// and an op's own refusal rolls back only that op (it runs under a savepoint).
//
// Failure policy, shared with the other modes (write_shared.h):
//  - SQLITE_FULL: the transaction was rolled back cleanly (or, inside an op, only the op's
//    statement); the items get DiskFull (507) and later groups are tried as usual, so ingest
//    resumes when space returns.
//  - SQLITE_BUSY (another process holds the write lock past the busy timeout): Unavailable.
//  - Anything else (I/O error, failed fsync, corruption): the file state is unknown, so the
//    error is sticky: this and every later request fail until the store is reopened.
//
// Checkpoints: small PASSIVE ones from the WAL hook inside COMMIT (write_shared.h), plus a
// TRUNCATE checkpoint at Stop.
//
// Thread-safety: Submit, Run and Stop may be called from any thread. The connection and its
// statements are touched only by the writer thread (and by Stop after joining it).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "store/lifecycle.h"
#include "store/write_path.h"
#include "store/write_shared.h"

namespace cistern {

struct WriterLimits {
  size_t max_group_requests = 1024;
  size_t max_group_events = 20'000;
  // Appends waiting for the writer at most; more are refused at once with BufferFull
  // (ops are never refused: the uploader's bookkeeping must get through).
  size_t max_queued_requests = 65'536;
};

class Writer : public WritePath {
 public:
  // Takes the migrated, configured connection whose state `state` was loaded from, and
  // starts the thread. `state` must outlive the Writer.
  static Result<std::unique_ptr<Writer>> Start(std::unique_ptr<sql::Db> db,
                                               std::unique_ptr<Lifecycle> lifecycle,
                                               WriteState* state, WriterLimits limits);
  ~Writer() override;

  void Submit(EventBatch batch, AppendExtras extras, int64_t bytes, AppendCallback done) override;
  void Run(LifecycleOp op, OpCallback done) override;
  void Stop() override;
  size_t QueueDepth() const override;

 private:
  Writer(std::unique_ptr<sql::Db> db, std::unique_ptr<Lifecycle> lifecycle, WriteState* state,
         WriterLimits limits);
  void Enqueue(WriteItem item);
  void Loop();
  // Writes one group in one transaction; returns the failure every item gets (ok: each
  // item has its own outcome).
  Status CommitGroup(std::vector<WriteItem>& group);

  // Constant after construction.
  const WriterLimits limits_;
  WriteState* const state_;

  // Writer thread only.
  std::unique_ptr<sql::Db> db_;
  std::unique_ptr<Lifecycle> lifecycle_;
  std::chrono::steady_clock::time_point last_drop_log_{};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WriteItem> queue_;  // guarded by mu_
  size_t queued_appends_ = 0;    // guarded by mu_
  bool stopping_ = false;        // guarded by mu_
  std::thread thread_;
};

}  // namespace cistern
