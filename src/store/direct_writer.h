// DirectWriter: the two comparison modes (write_path.h). The transaction runs on the
// caller's thread, and Submit/Exec return only after it committed or failed:
//   serialized: one connection under a mutex (the reference collector's baseline);
//   concurrent: one connection per calling thread; BEGIN (deferred) so that SQLite's
//               busy/snapshot conflicts surface, each one counted in commit_conflicts and
//               retried after a short randomized backoff, within a bounded budget.
// Both keep the promises of every mode: all-or-nothing per request, callback after COMMIT.
// In the HTTP server this means an io thread blocks for the commit: these modes exist to be
// measured against group commit, not to be fast.
//
// Thread-safety: all methods may be called from any thread. Each connection is used by one
// thread at a time (serialized: under mu_; concurrent: the thread it was opened for).
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/write_path.h"
#include "store/write_shared.h"

namespace cistern {

class DirectWriter : public WritePath {
 public:
  // `db` is the migrated, configured connection opened by the store (used for state
  // restore and, in serialized mode, for every write). `path` opens more connections.
  static Result<std::unique_ptr<DirectWriter>> Start(WriteMode mode, std::string path,
                                                     std::unique_ptr<sql::Db> db,
                                                     StoreCounters* counters);
  ~DirectWriter() override;

  void Submit(EventBatch batch, AppendCallback done) override;
  void Exec(Job job, JobCallback done) override;
  void Stop() override;
  size_t QueueDepth() const override { return 0; }

 private:
  struct Conn {
    std::unique_ptr<sql::Db> db;
    std::unique_ptr<sql::Stmt> insert;
  };

  DirectWriter(WriteMode mode, std::string path, StoreCounters* counters);
  // The connection this call may use; nullptr with *error set on failure.
  Conn* Acquire(Status* error);
  // Runs body() in one transaction with the mode's locking and retry policy.
  // Returns the status the request gets.
  Status Transact(const std::function<int(Conn&, Status*)>& body, int64_t events);
  bool Enter();  // false when stopping
  void Leave();

  const WriteMode mode_;
  const std::string path_;
  WriteState state_;

  std::mutex serial_mu_;  // serialized mode: held for each whole transaction
  Conn serial_;           // serialized mode's connection (guarded by serial_mu_)

  std::mutex mu_;
  std::condition_variable idle_cv_;
  std::map<std::thread::id, std::unique_ptr<Conn>> conns_;  // concurrent mode; guarded by mu_
  int in_flight_ = 0;                                       // guarded by mu_
  bool stopping_ = false;                                   // guarded by mu_
};

}  // namespace cistern
