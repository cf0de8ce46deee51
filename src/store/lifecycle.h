// Lifecycle: the SQL of the buffer's bookkeeping (docs/lifecycle.md): inserting events and
// their devices' pending counts, making room (deleting shipped events first, then evicting
// the oldest pending ones as BufferPolicy says), moving the upload cursor, recording upload
// runs, retention, and the id high-water mark. Nothing else in Cistern writes these tables.
//
// A write path owns one Lifecycle per read-write connection and calls it only inside a
// transaction it began, with a TxnEffects begun from the committed BufferState. Every method
// returns an SQLite result code (SQLITE_OK on success); a refusal that is not SQLite's (the
// buffer is full, an op asks for the impossible) comes back in *status with SQLITE_OK, and
// the caller rolls back what it must. Finish() runs last, before COMMIT.
//
// Thread-safety: not thread-safe; used by the thread that holds the write transaction.
#pragma once

#include <memory>

#include "common/status.h"
#include "event/event.h"
#include "store/buffer_policy.h"
#include "store/buffer_state.h"
#include "store/receipts.h"
#include "store/sqlite.h"
#include "store/write_ops.h"

namespace cistern {

class Lifecycle {
 public:
  // Prepares every statement on `db` (a migrated read-write connection).
  static Result<std::unique_ptr<Lifecycle>> Prepare(sql::Db& db);

  // Start-up: fills `state` and `counters` from the file: the next id (max(id) and
  // meta.id_high_water), the cursor, the devices and their pending counts, the newest run,
  // the file's in-use bytes. O(devices + log n): the table is never scanned. If the pending
  // counts disagree with the table (edited by hand), they are recounted once.
  Status Load(BufferState* state, StoreCounters* counters);

  // Makes room for a request of `events` events of about `bytes` bytes, as `policy` says.
  // *refusal stays ok when the request may be inserted.
  int MakeRoom(const BufferPolicy& policy, int64_t events, int64_t bytes, TxnEffects* fx,
               Status* refusal);
  // Inserts `batch` with ids fx->next_id... and counts it pending for its devices.
  int Insert(const EventBatch& batch, int64_t now_ms, TxnEffects* fx);
  // Stores what a request keeps beside its events (dead letters, a QoS 2 receipt).
  int Record(const AppendExtras& extras, int64_t now_ms, TxnEffects* fx) {
    return receipts_->Record(extras, now_ms, fx);
  }
  // *found: the QoS 2 receipt of `extras` is already stored (a re-sent PUBLISH).
  int HasReceipt(const AppendExtras& extras, bool* found) {
    return receipts_->HasReceipt(extras.qos2_client, extras.qos2_packet_id, found);
  }
  // Runs one op; its own outcome (and figures) in *result.
  int Run(const LifecycleOp& op, TxnEffects* fx, OpResult* result);
  // Before COMMIT: writes the devices' changes and, when events were deleted, the id
  // high-water mark (so a deleted newest row can never make an id come back).
  // `state` is the committed state (its device rows). REQUIRES: state.txn_mu held.
  int Finish(const BufferState& state, TxnEffects* fx);

  // The file's in-use bytes ((page_count - freelist_count) x page_size).
  Result<int64_t> UsedBytes();

 private:
  explicit Lifecycle(sql::Db& db) : db_(db) {}
  int MarkUploaded(const MarkUploadedOp& op, TxnEffects* fx, OpResult* result);
  int RecordFailedRun(const FailedRunOp& op, TxnEffects* fx);
  int Retain(const RetainOp& op, TxnEffects* fx, OpResult* result);
  int UpdatePayloads(const UpdatePayloadsOp& op, OpResult* result);
  // Deletes the oldest events with ids in (after, upto] until at least `events` events and
  // `bytes` estimated bytes are gone (or the range is exhausted). `pending`: they were not
  // shipped (evicted: their devices' pending counts drop), else shipped (pruned).
  int DeleteOldest(int64_t after, int64_t upto, int64_t events, int64_t bytes, bool pending,
                   TxnEffects* fx);
  int PutMeta(const char* key, int64_t value);
  int Recount(BufferState* state, int64_t cursor);

  sql::Db& db_;
  std::unique_ptr<Receipts> receipts_;
  std::unique_ptr<sql::Stmt> insert_, scan_, delete_range_, put_meta_;
  std::unique_ptr<sql::Stmt> device_update_, device_insert_;
  std::unique_ptr<sql::Stmt> run_ok_, run_error_, run_fold_;
  std::unique_ptr<sql::Stmt> shipped_before_, delete_through_, keep_runs_from_, delete_runs_;
  std::unique_ptr<sql::Stmt> update_payload_, page_count_, freelist_count_;
  int64_t page_size_ = 4096;
};

}  // namespace cistern
