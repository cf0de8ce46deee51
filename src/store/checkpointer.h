// Checkpointer: catch-up WAL checkpoints on a connection and thread of their own, so that a
// big checkpoint never runs inside a commit (docs/storage.md, "Checkpoints").
//
// The writer's WAL hook runs small PASSIVE checkpoints inside COMMIT while the WAL is short
// (cheap, and what keeps it short under steady load). A reader that holds a transaction open
// (an operator's sqlite3, an MCP query) pins the WAL: it cannot be reset and grows. When that
// reader ends, the checkpoint that copies the whole backlog of frames must not stall ingest:
// past `catchup_frames` not yet copied the hook only calls Nudge(), and this thread copies
// the frames while the writer goes on committing; the last few are copied by the hook again. Once
// every frame is copied, a new reader reads from the database file and the writer's next
// transaction rewinds the WAL (journal_size_limit then truncates the file back).
//
// Thread-safety: Nudge() may be called from any thread (it is called inside COMMIT, so it
// only sets a flag and signals); Stop() from one thread, once the writer has stopped.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "store/counters.h"
#include "store/sqlite.h"

namespace cistern {

class Checkpointer {
 public:
  // Opens its own read-write connection to `path` (WAL mode already set by the writer).
  static Result<std::unique_ptr<Checkpointer>> Start(const std::string& path,
                                                     StoreCounters* counters);
  ~Checkpointer();

  void Nudge();
  // WAL frames copied into the database as of the last background checkpoint.
  int64_t backfilled() const { return backfilled_.load(std::memory_order_relaxed); }
  // Finishes a checkpoint in progress, then closes the connection. Idempotent.
  void Stop();

 private:
  Checkpointer(std::unique_ptr<sql::Db> db, StoreCounters* counters)
      : db_(std::move(db)), counters_(counters) {}
  void Loop();

  std::unique_ptr<sql::Db> db_;  // the thread's only
  StoreCounters* const counters_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<int64_t> backfilled_{0};
  bool nudged_ = false;    // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace cistern
