// Writer: group mode. The thread that owns the read-write connection and does group commit.
//
// Every request queued while a commit is in flight joins the next transaction, so one fsync
// serves many requests. A group is capped (requests and events) so one transaction never
// grows without bound. Each request is completed only after its COMMIT returned, and every
// request of a group gets the group's status (the LevelDB rule): there are no partial groups.
// Jobs (Exec) join groups like requests do.
//
// Failure policy (STYLE.md habit 6), shared with the other modes (write_shared.h):
//  - SQLITE_FULL: the transaction was rolled back cleanly; the group gets DiskFull (507) and
//    later groups are tried again as usual, so ingest resumes when space returns.
//  - SQLITE_BUSY (another process holds the write lock past the busy timeout): Unavailable.
//  - Anything else (I/O error, failed fsync, corruption): the file state is unknown, so the
//    error is sticky: this and every later request fail until the store is reopened.
//
// Checkpoints: small PASSIVE ones from the WAL hook inside COMMIT (write_shared.h), plus a
// TRUNCATE checkpoint at Stop.
//
// Thread-safety: Submit, Exec and Stop may be called from any thread. The connection and the
// prepared statement are touched only by the writer thread (and by Stop after joining it).
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "store/write_path.h"
#include "store/write_shared.h"

namespace cistern {

struct WriterLimits {
  size_t max_group_requests = 1024;
  size_t max_group_events = 20'000;
  // Appends waiting for the writer at most; more are refused at once with BufferFull
  // (jobs are never refused: the uploader's checkpoint must get through).
  size_t max_queued_requests = 65'536;
  // Room-making policy (see StoreOptions): evict un-uploaded events when the backlog would
  // pass max_backlog or the file is over max_db_bytes (drop_oldest); prune uploaded events
  // first whenever the file is over max_db_bytes (both policies).
  bool drop_oldest = false;
  int64_t max_backlog = 0;
  int64_t max_db_bytes = 0;
};

class Writer : public WritePath {
 public:
  // Takes the migrated, configured connection; restores state (LoadState) into `counters`
  // and starts the thread. `counters` must outlive the Writer.
  static Result<std::unique_ptr<Writer>> Start(std::unique_ptr<sql::Db> db, WriterLimits limits,
                                               StoreCounters* counters);
  ~Writer() override;

  void Submit(EventBatch batch, AppendCallback done) override;
  void Exec(Job job, JobCallback done) override;
  void Stop() override;
  size_t QueueDepth() const override;

 private:
  struct Item {
    EventBatch batch;  // an append, when job is empty
    AppendCallback done;
    Job job;
    JobCallback job_done;
    Status job_status;  // the job's own outcome (it runs under a savepoint)
  };

  Writer(std::unique_ptr<sql::Db> db, WriterLimits limits, StoreCounters* counters);
  void Enqueue(Item item);
  void Run();
  // Writes one group in one transaction; returns the status every item of it gets.
  Status CommitGroup(std::deque<Item>& group, std::vector<int64_t>* first_ids);
  // Runs a job under a savepoint; returns an SQLite code (a job's own error is not one).
  int RunJob(Item& item);
  // Inside the group's transaction, before its inserts: deletes what the limits require to
  // make room for `incoming` events. Returns an SQLite code; counts what it deleted.
  int MakeRoom(int64_t incoming, int64_t* pruned, int64_t* dropped);
  // Refreshes counters.used_bytes (only with max_db_bytes).
  void RefreshUsedBytes();

  // Constant after construction.
  const WriterLimits limits_;
  WriteState state_;

  // Writer thread only.
  std::unique_ptr<sql::Db> db_;
  std::unique_ptr<sql::Stmt> insert_;
  std::unique_ptr<sql::Stmt> prune_, evict_, page_count_, freelist_count_;
  int64_t page_size_ = 4096;

  std::chrono::steady_clock::time_point last_drop_log_{};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;  // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  std::thread thread_;
};

}  // namespace cistern
