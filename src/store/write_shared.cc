#include "store/write_shared.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "common/clock.h"

namespace cistern {
namespace {

// A failure SQLite may have confined to one statement of an op (the transaction goes on).
bool ConfinableToOp(int rc) { return (rc & 0xff) == SQLITE_FULL; }

int RunOp(sqlite3* db, Lifecycle& lifecycle, OpItem& item, TxnEffects* fx) {
  int rc = sqlite3_exec(db, "SAVEPOINT op", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return rc;
  TxnEffects op_fx = *fx;  // the op's effects count only if it is kept
  rc = lifecycle.Run(item.op, &op_fx, &item.result);
  if (rc == SQLITE_OK && item.result.status.ok()) {
    *fx = std::move(op_fx);
    return sqlite3_exec(db, "RELEASE op", nullptr, nullptr, nullptr);
  }
  // SQLite may have rolled the whole transaction back (a full disk can do that, and an I/O
  // error leaves the file state unknown): then the whole transaction fails.
  if (rc != SQLITE_OK && (sqlite3_get_autocommit(db) || !ConfinableToOp(rc))) return rc;
  if (rc != SQLITE_OK) item.result.status = sql::MapError(rc, db, "upload bookkeeping");
  item.result.count = 0;
  item.result.more = false;
  int undo = sqlite3_exec(db, "ROLLBACK TO op", nullptr, nullptr, nullptr);
  if (undo != SQLITE_OK) return undo;
  return sqlite3_exec(db, "RELEASE op", nullptr, nullptr, nullptr);
}

}  // namespace

int RunItems(sqlite3* db, Lifecycle& lifecycle, WriteState* state, std::span<WriteItem> items,
             int64_t now_ms, TxnEffects* fx) {
  for (WriteItem& item : items) {
    int rc = SQLITE_OK;
    if (auto* a = std::get_if<AppendItem>(&item)) {
      const auto n = static_cast<int64_t>(a->batch.size());
      a->duplicate = false;
      if (a->extras.qos2_packet_id != 0) rc = lifecycle.HasReceipt(a->extras, &a->duplicate);
      if (rc == SQLITE_OK && !a->duplicate) {
        rc = lifecycle.MakeRoom(*state->policy, n, a->bytes, fx, &a->refused);
      }
      if (rc == SQLITE_OK && !a->duplicate && a->refused.ok()) {
        a->first_id = fx->next_id;
        rc = lifecycle.Insert(a->batch, now_ms, fx);
        if (rc == SQLITE_OK && !a->extras.empty()) rc = lifecycle.Record(a->extras, now_ms, fx);
      }
    } else {
      rc = RunOp(db, lifecycle, std::get<OpItem>(item), fx);
    }
    if (rc != SQLITE_OK) return rc;
  }
  return lifecycle.Finish(*state->buffer, fx);
}

void CompleteItems(std::span<WriteItem> items, const Status& failure, WriteState* state) {
  for (WriteItem& item : items) {
    if (auto* a = std::get_if<AppendItem>(&item)) {
      const auto n = static_cast<int64_t>(a->batch.size());
      Status s = failure.ok() ? a->refused : failure;
      // The admission ends here: stored events stay counted (as backlog), others go back.
      state->counters->reserved_bytes.fetch_sub(a->bytes, std::memory_order_relaxed);
      if (!s.ok() || a->duplicate) {
        state->counters->admitted.fetch_sub(n, std::memory_order_relaxed);
      }
      if (s.ok() && a->duplicate) {
        a->done(AppendResult{s, 0, 0, true});
      } else {
        a->done(AppendResult{s, s.ok() ? a->first_id : 0, a->batch.size()});
      }
    } else {
      auto& o = std::get<OpItem>(item);
      if (!failure.ok()) o.result = OpResult{failure, 0, false};
      o.done(o.result);
    }
  }
}

void CommitTimer::Record(StoreCounters* c) const {
  auto us = [](Clock::duration d) {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
  };
  auto done = Clock::now();
  c->commit_latency.Record(us(done - t0_));
  c->commit_begin_latency.Record(us(began_ - t0_));
  c->commit_store_latency.Record(us(stored_ - began_));
  c->commit_sync_latency.Record(us(done - stored_));
}

Status StoreAndCommit(sqlite3* db, Lifecycle& lifecycle, WriteState* state,
                      std::span<WriteItem> items, TxnEffects* fx, CommitTimer* timer) {
  const char* step = "store";
  int rc = RunItems(db, lifecycle, state, items, UnixMillis(), fx);
  Result<int64_t> used_bytes = Status::Internal("not read");
  if (rc == SQLITE_OK) {
    // Read inside the transaction, just before COMMIT (which changes neither the page nor
    // the freelist count: no auto_vacuum). Read after COMMIT, each PRAGMA would be a read
    // transaction of its own: lock round trips (fcntl on the file and the -shm) on every
    // commit, ~7% of the writer thread's time under single-event load.
    used_bytes = lifecycle.UsedBytes();
    step = "commit";
    timer->Stored();
    rc = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  if (rc != SQLITE_OK) {
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return ClassifyFailure(rc, db, step, state);
  }
  StoreCounters* c = state->counters;
  fx->Apply(state->buffer, c);
  if (used_bytes.ok()) {  // else the last reading stands
    state->buffer->used_bytes = *used_bytes;
    c->used_bytes.store(*used_bytes, std::memory_order_relaxed);
  }
  timer->Record(c);
  c->commits.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

namespace {

int OnWalCommit(void* arg, sqlite3* db, const char* name, int frames) {
  // Runs inside COMMIT, after the WAL was synced: the transaction is already durable.
  // Small, frequent checkpoints here beat a background checkpointer thread on this box on
  // throughput *and* tail latency (docs/storage.md has the measurements): a background
  // PASSIVE checkpoint alone never catches up under sustained load, and the WAL can only
  // rewind once a checkpoint copied every frame. So the normal case stays here; only a WAL
  // grown behind a reader goes to the Checkpointer, and once it has copied all but the last
  // few frames, the small remainder is copied here again and the WAL rewinds.
  auto* state = static_cast<WriteState*>(arg);
  state->counters->wal_frames.store(frames, std::memory_order_relaxed);
  // Frames not yet copied, as far as the checkpointer last saw (after a rewind its figure is
  // stale and larger than `frames`: then every frame counts).
  int64_t copied = state->checkpointer ? state->checkpointer->backfilled() : 0;
  int64_t uncopied = frames >= copied ? frames - copied : frames;
  // That many frames were pinned by a reader: copying them here would stall this commit (and
  // every request in its group) for as long as the copy takes. Hand them over.
  if (state->checkpointer != nullptr && state->catchup_frames > 0 &&
      uncopied >= state->catchup_frames) {
    state->counters->checkpoints_deferred.fetch_add(1, std::memory_order_relaxed);
    state->checkpointer->Nudge();
    return SQLITE_OK;
  }
  if (frames < state->checkpoint_frames) return SQLITE_OK;
  if (uncopied > state->counters->inline_checkpoint_max_frames.load(std::memory_order_relaxed)) {
    state->counters->inline_checkpoint_max_frames.store(uncopied, std::memory_order_relaxed);
  }
  auto t0 = std::chrono::steady_clock::now();
  int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  state->counters->checkpoint_latency.Record(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count()));
  if (rc == SQLITE_OK) state->counters->checkpoints.fetch_add(1, std::memory_order_relaxed);
  // A failed or partial checkpoint is not an error of the commit: it is retried next time.
  return SQLITE_OK;
}

}  // namespace

void InstallCheckpointHook(sqlite3* db, WriteState* state) {
  sqlite3_wal_hook(db, &OnWalCommit, state);
}

void FinishWriteConnection(sql::Db& db, WriteState* state) {
  if (state->loaded && StickyError(state).ok()) {
    std::string last = std::to_string(state->buffer->next_id.load() - 1);
    std::string sql = "INSERT INTO meta(key, value) VALUES('id_high_water', " + last +
                      ") ON CONFLICT(key) DO UPDATE SET value = max(CAST(value AS INTEGER), " +
                      last + ")";
    if (Status s = db.Exec(sql); !s.ok()) spdlog::warn("saving id_high_water: {}", s.message());
  }
  int rc =
      sqlite3_wal_checkpoint_v2(db.handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  if (rc != SQLITE_OK) spdlog::warn("final checkpoint: {}", sqlite3_errmsg(db.handle()));
}

Status StickyError(const WriteState* state) {
  std::lock_guard lock(state->sticky_mu);
  return state->sticky;
}

Status ClassifyFailure(int rc, sqlite3* db, const char* step, WriteState* state) {
  Status s = sql::MapError(rc, db, std::string(step) + " events");
  state->counters->commit_failures.fetch_add(1);
  if (s.code() == Status::Code::kDiskFull) {
    spdlog::warn("disk full: write refused; ingest resumes when space returns");
    return s;
  }
  if (s.code() == Status::Code::kBusy) return Status::Unavailable(s.message());
  Status sticky = Status::IoError("store failed and refuses writes until restart: " + s.message());
  std::lock_guard lock(state->sticky_mu);
  if (state->sticky.ok()) {
    state->sticky = sticky;
    spdlog::error("{}", sticky.message());
  }
  return state->sticky;
}

const char* WriteModeName(WriteMode mode) {
  switch (mode) {
    case WriteMode::kGroup:
      return "group";
    case WriteMode::kSerialized:
      return "serialized";
    case WriteMode::kConcurrent:
      return "concurrent";
  }
  return "group";
}

Result<WriteMode> ParseWriteMode(std::string_view name) {
  if (name == "group") return WriteMode::kGroup;
  if (name == "serialized") return WriteMode::kSerialized;
  if (name == "concurrent") return WriteMode::kConcurrent;
  return Status::InvalidArgument("unknown write mode '" + std::string(name) +
                                 "' (group, serialized or concurrent)");
}

}  // namespace cistern
