// Store: the durable buffer, and the only owner of its lifecycle (docs/lifecycle.md). One per
// database file per process (see StoreRegistry).
//
//   Append            admit (BufferPolicy) -> group commit -> done(ids) after COMMIT
//   OpenBacklogReader the uploader's reader of pending events (the committed prefix)
//   MarkUploaded      the sink acknowledged a batch: move the upload cursor, record the run
//   RecordFailedRun   a ship failed: record it (identical consecutive failures fold)
//   retention         the store's own: shipped events older than --retain-uploaded, their runs
//
// Every change to the bookkeeping (backlog, per-device pending counts, the cursor, ids, the
// high-water mark) is made in the transaction that changes the events, and the counters are
// updated from it after COMMIT; callers never fix figures up.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"
#include "event/event.h"
#include "sinks/api/upload_batch.h"
#include "store/backlog_reader.h"
#include "store/buffer_policy.h"
#include "store/buffer_state.h"
#include "store/checkpointer.h"
#include "store/counters.h"
#include "store/write_path.h"
#include "store/write_shared.h"
#include "store/writer.h"

namespace cistern {

class FileLock;

struct StoreOptions {
  std::string path = "events.db";
  WriteMode mode = WriteMode::kGroup;
  OnFull on_full = OnFull::kReject;
  // Bound on the main file's in-use bytes (0 = none; else at least MinDbBytes()). Shipped
  // events are deleted first to stay under it; then new writes are refused (kReject) or the
  // oldest pending events are evicted (kDropOldest).
  uint64_t max_db_bytes = 0;
  bool indexed = false;          // create events(device_id) index
  int64_t max_backlog = 50'000;  // 0 = unlimited
  // Shipped events are deleted this long after they were shipped (0 = at once).
  std::chrono::milliseconds retain_uploaded{24LL * 3600 * 1000};
  int64_t retention_chunk = 2000;                        // events per retention transaction
  std::chrono::milliseconds maintenance_interval{1000};  // how often retention looks
  // WAL frames past which checkpoints leave the commit path for the Checkpointer thread
  // (-1 = the default, 4000 frames ~ 16 MiB; 0 = never).
  int checkpoint_catchup_frames = -1;
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
  int64_t upload_cursor = 0;
  int64_t devices_seen = 0;
  int64_t events_uploaded = 0;
  int64_t events_dropped = 0;
  int64_t events_pruned = 0;
  int64_t dead_letters = 0;
  std::string on_full;
  int64_t max_db_bytes = 0;
  int64_t used_bytes = 0;
  int64_t commits = 0;
  int64_t commit_failures = 0;
  int64_t requests_committed = 0;
  int64_t commit_conflicts = 0;
  int64_t checkpoints = 0;
  int64_t checkpoints_deferred = 0, background_checkpoints = 0, inline_checkpoint_max_frames = 0;
  LatencyHistogram::Snapshot background_checkpoint_latency;
  int64_t wal_frames = 0;
  int64_t queue_depth = 0;
  int64_t db_bytes = 0;  // main file + WAL
  LatencyHistogram::Snapshot commit_latency;
  // commit_latency's phases (CommitTimer): write lock, statements, COMMIT (sync + checkpoint).
  LatencyHistogram::Snapshot commit_begin_latency, commit_store_latency, commit_sync_latency;
  LatencyHistogram::Snapshot checkpoint_latency;
};

class Store {
 public:
  // Opens (creating and migrating as needed) the database at options.path, taking the
  // cross-process lock first. Errors: Busy when another process holds the lock (the message
  // names the lock file), InvalidArgument for a max_db_bytes below MinDbBytes(), IoError for
  // unusable files (a missing directory is named as such), Internal otherwise.
  // Prefer StoreRegistry::Open, which shares one Store per file within the process.
  static Result<std::shared_ptr<Store>> Open(const StoreOptions& options);
  ~Store();  // Close()s.
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Stores every event of `batch` in one atomic unit, then calls done exactly once:
  //  - ok with the ids, after the COMMIT that made them durable returned;
  //  - TooLarge at once when the batch alone is larger than the buffer;
  //  - BufferFull when BufferPolicy refuses it (at once, or by the writer once room-making
  //    could not make enough room), or the writer's queue is full;
  //  - DiskFull / IoError / Unavailable from the writer.
  // Nothing of a refused or failed request is stored. REQUIRES: !batch.empty().
  void Append(EventBatch batch, AppendCallback done);
  // The same, with what the request keeps beside its events in the same transaction (dead
  // letters, an MQTT QoS 2 receipt). `batch` may be empty when `extras` is not.
  void Append(EventBatch batch, AppendExtras extras, AppendCallback done);

  // MQTT sessions (the MQTT listener; docs/lifecycle.md). Each runs one transaction through
  // the write path and calls `done` once, on the writer thread (post, do not block):
  //  - OpenMqttSession: a client connected. `clean` ends any stored session; otherwise the
  //    session is kept and `done` gets the packet ids of its QoS 2 receipts (PUBLISHes
  //    stored but not yet released by PUBREL). `expiry_ms`: how long the session outlives a
  //    disconnect (0 = not at all, -1 = for ever).
  //  - CloseMqttSession: the client went away.
  //  - ReleaseQos2: PUBREL arrived; answer PUBCOMP only after `done` reported ok.
  void OpenMqttSession(std::string client_id, bool clean, int64_t expiry_ms, OpCallback done);
  void CloseMqttSession(std::string client_id, int64_t expiry_ms, OpCallback done);
  void ReleaseQos2(std::string client_id, uint16_t packet_id, OpCallback done);

  // A reader of the pending events for the uploader (one per uploader thread).
  Result<std::unique_ptr<BacklogReader>> OpenBacklogReader();

  // After the sink acknowledged `batch` (as read by a BacklogReader): moves the upload cursor
  // past it and records an 'ok' run, in one transaction; blocks until it committed. Events of
  // the batch evicted meanwhile are not counted twice. InvalidArgument when the batch reaches
  // past the committed ids; the writer's errors otherwise (DiskFull: try again later).
  Status MarkUploaded(const UploadBatch& batch, int64_t started_ms);
  // After a failed ship of `events` events: records an 'error' run, or when the previous run
  // failed the same way (the messages differ at most in numbers), folds into it
  // (attempts + 1, finished_at = now, the latest message). Blocks.
  Status RecordFailedRun(int64_t started_ms, int64_t events, std::string error);
  // Rewrites payloads of existing events in one transaction (the --disjoint experiment).
  Status UpdatePayloads(std::vector<std::pair<int64_t, std::string>> updates);

  // The sticky error once the file state became unknown (writes are refused until the store
  // is reopened), else ok.
  Status Health() const;
  // True while an ordinary request would be accepted (BufferPolicy::Accepting, store healthy).
  bool Accepting() const;
  const BufferPolicy& policy() const { return policy_; }
  // A config reload (docs/configuration.md "Reload"): new --max-backlog, --max-db-bytes,
  // --on-full and --retain-uploaded take effect for the next admission, transaction and
  // retention pass. Thread-safe (atomics); events already admitted are never refused.
  void SetBufferLimits(int64_t max_backlog, int64_t max_db_bytes, OnFull on_full,
                       std::chrono::milliseconds retain_uploaded);

  StoreStats Stats() const;
  // The backlog gauge alone (an atomic load; Stats() also stats the files).
  int64_t backlog() const { return counters_.backlog.load(std::memory_order_relaxed); }
  const std::string& path() const { return options_.path; }
  const std::string& node_id() const { return node_id_; }
  const StoreOptions& options() const { return options_; }

  // Stops retention, completes everything queued, stops the threads, checkpoints and closes
  // the file, then releases the lock. Later Appends fail with Unavailable. Idempotent.
  void Close();

 private:
  Store(StoreOptions options, BufferLimits limits);
  OpResult RunOp(LifecycleOp op);
  void MaintenanceLoop();

  const StoreOptions options_;  // bounds and retention: see policy_ and retain_uploaded_ms_
  BufferPolicy policy_;
  std::atomic<int64_t> retain_uploaded_ms_{0};
  std::string node_id_;
  bool indexed_ = false;
  StoreCounters counters_;
  BufferState buffer_;
  WriteState state_;
  bool opened_ = false;  // Open() completed (set once, before the store is shared)
  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<WritePath> writer_;
  std::unique_ptr<Checkpointer> checkpointer_;  // outlives writer_ (its hook nudges it)

  std::mutex maintenance_mu_;
  std::condition_variable maintenance_cv_;
  bool closing_ = false;  // guarded by maintenance_mu_
  std::thread maintenance_;
};

}  // namespace cistern
