// Checkpointer: keeps WAL checkpoints off the commit path (DESIGN.md section 8).
//
// The writer connection has auto-checkpoint disabled; this thread, on its own connection,
// runs wal_checkpoint(PASSIVE) when the WAL has grown past a threshold or a while after the
// last commit, and TRUNCATE once ingest has been idle, so the WAL file stays small without
// the writer ever paying for a checkpoint. PASSIVE never blocks the writer.
// Thread-safety: Start/Stop from the owning thread; the thread only reads `counters`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "common/status.h"
#include "store/counters.h"
#include "store/sqlite.h"

namespace cistern {

class Checkpointer {
 public:
  static Result<std::unique_ptr<Checkpointer>> Start(const std::string& path,
                                                     StoreCounters* counters);
  ~Checkpointer();  // Stop()s.
  void Stop();      // Idempotent.

 private:
  Checkpointer(std::unique_ptr<sql::Db> db, StoreCounters* counters)
      : db_(std::move(db)), counters_(counters) {}
  void Run();

  std::unique_ptr<sql::Db> db_;  // checkpointer thread only
  StoreCounters* const counters_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace cistern
