// What every write mode shares: the items a transaction carries (appends and lifecycle ops),
// running them inside a transaction, completing them, the failure policy, the in-commit
// checkpoint hook, and the last use of a connection at a clean stop. Used only by the
// WritePath implementations (writer.h, direct_writer.h).
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <variant>

#include "common/status.h"
#include "event/event.h"
#include "store/buffer_policy.h"
#include "store/buffer_state.h"
#include "store/checkpointer.h"
#include "store/counters.h"
#include "store/lifecycle.h"
#include "store/sqlite.h"
#include "store/write_ops.h"
#include "store/write_path.h"

namespace cistern {

// State shared by a write path's connections; owned by the Store, outlives the write path.
struct WriteState {
  StoreCounters* counters = nullptr;
  BufferState* buffer = nullptr;
  const BufferPolicy* policy = nullptr;
  int checkpoint_frames = 1000;
  // Past this many WAL frames the hook leaves the checkpoint to `checkpointer` (never inside
  // a COMMIT). 0 or no checkpointer: always in-commit.
  int catchup_frames = 4000;
  Checkpointer* checkpointer = nullptr;
  bool loaded = false;  // Lifecycle::Load succeeded (the high-water mark may be saved)
  mutable std::mutex sticky_mu;
  Status sticky;  // guarded by sticky_mu: once set, every write fails with it
};

// One request to store, as the write path carries it.
struct AppendItem {
  EventBatch batch;
  AppendExtras extras;
  int64_t bytes = 0;  // BufferPolicy::EstimateBytes, counted in reserved_bytes at admission
  AppendCallback done;
  Status refused;          // set when room-making refused it (nothing of it is stored)
  int64_t first_id = 0;    // its ids once inserted
  bool duplicate = false;  // its QoS 2 receipt was already stored: nothing stored
};

// One lifecycle op.
struct OpItem {
  LifecycleOp op;
  OpCallback done;
  OpResult result;
};

using WriteItem = std::variant<AppendItem, OpItem>;

// Runs `items` inside the transaction the caller began on `db`, in order: room-making and
// the insert for each append (a refused append is skipped: item.refused says why), and each
// op under a savepoint (its own refusal, or a disk-full inside it that SQLite confined to the
// statement, rolls back only the op). Then Lifecycle::Finish. Returns SQLITE_OK or the code
// that must fail the whole transaction (the caller rolls back). REQUIRES: buffer->txn_mu held.
int RunItems(sqlite3* db, Lifecycle& lifecycle, WriteState* state, std::span<WriteItem> items,
             int64_t now_ms, TxnEffects* fx);

// Calls every item's callback exactly once: with `failure` when the transaction failed,
// else each its own outcome (appends: ids or refusal; ops: their result). Gives back the
// admission of every append that was not stored.
void CompleteItems(std::span<WriteItem> items, const Status& failure, WriteState* state);

// Where one write transaction spent its time, for /stats' commit_phases_ms: `begin` (taking
// SQLite's write lock, and txn_mu), `store` (the statements), `commit` (COMMIT: the WAL write,
// its fsync, and the WAL hook's checkpoint). Not thread-safe; one per transaction.
class CommitTimer {
 public:
  using Clock = std::chrono::steady_clock;
  CommitTimer() : t0_(Clock::now()), began_(t0_), stored_(t0_) {}
  void Began() { began_ = Clock::now(); }
  void Stored() { stored_ = Clock::now(); }
  // Records the total and the three phases into `c` (call once, after COMMIT returned OK).
  void Record(StoreCounters* c) const;

 private:
  Clock::time_point t0_, began_, stored_;
};

// The rest of a write transaction, the same in every write mode, once the caller's
// BEGIN IMMEDIATE on `db` succeeded: RunItems, then COMMIT. On success it applies `fx` to the
// shared state, takes used_bytes and records the commit (count and phase latencies) and
// returns ok; on failure it rolls back what is left and returns ClassifyFailure's status.
// REQUIRES: buffer->txn_mu held since `fx` was begun (TxnEffects::Begin).
Status StoreAndCommit(sqlite3* db, Lifecycle& lifecycle, WriteState* state,
                      std::span<WriteItem> items, TxnEffects* fx, CommitTimer* timer);

// Installs the WAL hook that records WAL size and runs a small PASSIVE checkpoint once the
// WAL reaches state->checkpoint_frames (see docs/storage.md for why in-commit); past
// state->catchup_frames it nudges state->checkpointer instead.
void InstallCheckpointHook(sqlite3* db, WriteState* state);

// Turns a failed transaction's SQLite code into the Status its items get, and makes it
// sticky when the file state is unknown (anything but disk full and busy).
Status ClassifyFailure(int rc, sqlite3* db, const char* step, WriteState* state);

// The sticky error, or ok.
Status StickyError(const WriteState* state);

// The last use of a write path's connection at a clean stop: saves meta.id_high_water when
// the state was loaded and the store did not fail (ids stay unique even if rows are deleted
// by hand while it is stopped), and folds the WAL into the main file (TRUNCATE checkpoint),
// so a stopped collector leaves one self-contained file. Problems are logged, not returned.
void FinishWriteConnection(sql::Db& db, WriteState* state);

}  // namespace cistern
