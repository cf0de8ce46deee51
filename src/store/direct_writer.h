// DirectWriter: the two comparison modes (write_path.h). The transaction runs on the
// caller's thread, and Submit/Run return only after it committed or failed:
//   serialized: one connection under a mutex (the reference collector's baseline);
//   concurrent: one connection per calling thread; BEGIN IMMEDIATE with no busy handler, so
//               SQLite's write-lock conflicts surface at once, each one counted in
//               commit_conflicts and retried after a short randomized backoff, within a
//               bounded budget.
// Ids are taken only once SQLite's write lock is held (inside BEGIN IMMEDIATE), so
// transactions commit in id order and the uploader never sees a later id before an earlier
// one commits (docs/lifecycle.md). Both keep the promises of every mode: all-or-nothing per
// request, callback after COMMIT. In the HTTP server this means an io thread blocks for the
// commit: these modes exist to be measured against group commit, not to be fast.
//
// Thread-safety: all methods may be called from any thread. Each connection is used by one
// thread at a time (serialized: under serial_mu_; concurrent: the thread it was opened for).
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/lifecycle.h"
#include "store/write_path.h"
#include "store/write_shared.h"

namespace cistern {

class DirectWriter : public WritePath {
 public:
  // `db` is the migrated, configured connection opened by the store (its state already
  // loaded into `state`; serialized mode writes through it). `path` opens more connections.
  static Result<std::unique_ptr<DirectWriter>> Start(WriteMode mode, std::string path,
                                                     std::unique_ptr<sql::Db> db,
                                                     std::unique_ptr<Lifecycle> lifecycle,
                                                     WriteState* state);
  ~DirectWriter() override;

  void Submit(EventBatch batch, AppendExtras extras, int64_t bytes, AppendCallback done) override;
  void Run(LifecycleOp op, OpCallback done) override;
  void Stop() override;
  size_t QueueDepth() const override { return 0; }

 private:
  struct Conn {
    std::unique_ptr<sql::Db> db;
    std::unique_ptr<Lifecycle> lifecycle;
  };

  DirectWriter(WriteMode mode, std::string path, WriteState* state);
  // The connection this call may use; nullptr with *error set on failure.
  Conn* Acquire(Status* error);
  // Runs `item` in one transaction with the mode's locking and retry policy, then completes it.
  void Transact(WriteItem item);
  bool Enter();  // false when stopping
  void Leave();

  const WriteMode mode_;
  const std::string path_;
  WriteState* const state_;

  std::mutex serial_mu_;  // serialized mode: held for each whole transaction
  Conn serial_;           // serialized mode's connection (guarded by serial_mu_)

  std::mutex mu_;
  std::condition_variable idle_cv_;
  std::map<std::thread::id, std::unique_ptr<Conn>> conns_;  // concurrent mode; guarded by mu_
  int in_flight_ = 0;                                       // guarded by mu_
  bool stopping_ = false;                                   // guarded by mu_
};

}  // namespace cistern
