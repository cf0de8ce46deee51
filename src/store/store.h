// Store: the durable buffer. One per database file per process (see StoreRegistry).
//
// Append() admits a request (backpressure), hands it to the writer thread for group commit
// and completes it after COMMIT. Stats() reads the live counters. Close() drains and closes.
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "event/event.h"
#include "store/counters.h"
#include "store/write_path.h"
#include "store/writer.h"

namespace cistern {

class FileLock;

// What to do when the buffer is full (--max-backlog or --max-db-bytes reached).
enum class OnFull {
  kReject,      // 503 + Retry-After; nothing stored
  kDropOldest,  // evict the oldest un-uploaded events to make room; counted in events_dropped
};

struct StoreOptions {
  std::string path = "events.db";
  WriteMode mode = WriteMode::kGroup;
  OnFull on_full = OnFull::kReject;
  // Bound on the main file's in-use bytes (0 = none). Uploaded events are deleted first to
  // stay under it; then new writes are refused (kReject) or the oldest un-uploaded events are
  // evicted (kDropOldest). Group mode only; the comparison modes do not enforce it.
  uint64_t max_db_bytes = 0;
  bool indexed = false;          // create events(device_id) index
  int64_t max_backlog = 50'000;  // 0 = unlimited
  WriterLimits writer;
};

struct StoreStats {
  std::string mode;
  bool indexed = false;
  std::string node_id;
  std::string path;
  int64_t events_written = 0;
  int64_t events_written_session = 0;
  int64_t backlog = 0;
  int64_t max_backlog = 0;
  int64_t devices_seen = 0;
  int64_t events_uploaded = 0;
  int64_t events_dropped = 0;
  int64_t events_pruned = 0;
  std::string on_full;
  int64_t max_db_bytes = 0;
  int64_t used_bytes = 0;
  int64_t commits = 0;
  int64_t commit_failures = 0;
  int64_t requests_committed = 0;
  int64_t commit_conflicts = 0;
  int64_t checkpoints = 0;
  int64_t wal_frames = 0;
  int64_t queue_depth = 0;
  int64_t db_bytes = 0;  // main file + WAL
  LatencyHistogram::Snapshot commit_latency;
  LatencyHistogram::Snapshot checkpoint_latency;
};

class Store {
 public:
  // Opens (creating and migrating as needed) the database at options.path, taking the
  // cross-process lock first. Errors: Busy when another process holds the lock (the message
  // names the lock file), IoError for unusable files, Internal otherwise.
  // Prefer StoreRegistry::Open, which shares one Store per file within the process.
  static Result<std::shared_ptr<Store>> Open(const StoreOptions& options);
  ~Store();  // Close()s.
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Stores every event of `batch` in one atomic unit, then calls done exactly once:
  //  - ok with the ids, after the COMMIT that made them durable returned;
  //  - BufferFull at once (nothing stored) when admitting the batch would take the backlog
  //    past max_backlog, or the writer's queue is full;
  //  - TooLarge at once when the batch alone is larger than max_backlog;
  //  - DiskFull / IoError / Unavailable from the writer (nothing stored).
  // REQUIRES: !batch.empty().
  void Append(EventBatch batch, AppendCallback done);

  // Called by the uploader after the checkpoint that marked `n` events uploaded committed.
  void OnUploaded(int64_t n);
  // Called after a committed job deleted `n` uploaded events (retention).
  void OnPruned(int64_t n);

  // Runs `job` inside a write transaction through the store's write path (the uploader's
  // checkpoint; the experiments' wide transactions). No admission control.
  void Exec(Job job, JobCallback done);

  StoreStats Stats() const;
  // The backlog gauge alone (an atomic load; Stats() also stats the files).
  int64_t backlog() const { return counters_.backlog.load(std::memory_order_relaxed); }
  const std::string& path() const { return options_.path; }
  const StoreOptions& options() const { return options_; }

  // Completes everything queued, stops the threads, checkpoints and closes the file, then
  // releases the lock. Later Appends fail with Unavailable. Idempotent.
  void Close();

 private:
  explicit Store(StoreOptions options);

  const StoreOptions options_;
  std::string node_id_;
  bool indexed_ = false;
  StoreCounters counters_;
  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<WritePath> writer_;
};

}  // namespace cistern
