// BufferState: the in-memory image of the buffer's bookkeeping (docs/lifecycle.md), and
// TxnEffects: what one write transaction did to it, staged while the transaction runs and
// applied only after its COMMIT returned (a rolled-back transaction changes nothing here).
//
// Thread-safety: next_id and cursor are atomics any thread may read (the backlog reader reads
// the cursor). Everything else belongs to the thread that holds the write transaction: the
// group writer's thread, or in the direct modes the thread holding SQLite's write lock, which
// also holds txn_mu for the whole transaction.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/counters.h"

namespace cistern {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// The newest upload_runs row, so identical consecutive failures fold into it.
struct LastRun {
  int64_t row_id = 0;  // 0 = none
  bool failed = false;
  std::string error;
};

struct BufferState {
  std::atomic<int64_t> next_id{1};  // the next id to assign; ids are never reused
  std::atomic<int64_t> cursor{0};   // the upload cursor: every id <= cursor was shipped

  std::mutex txn_mu;  // held by the thread running a write transaction (see above)
  // Below: guarded by txn_mu.
  int64_t min_id = 1;           // no event with a smaller id exists (a lower bound)
  int64_t dropped_through = 0;  // highest id evicted by this process (ids above it pending)
  int64_t high_water_saved = 0;
  int64_t backlog = 0;
  int64_t used_bytes = 0;          // in-use bytes of the main file after the last commit
  StringMap<int64_t> device_rows;  // device key -> devices.id
  LastRun last_run;
};

// One device's change within a transaction.
struct DeviceDelta {
  int64_t pending = 0;       // change of devices.pending
  int64_t last_seen_ms = 0;  // newest ingest time (0 = none in this transaction)
};

struct TxnEffects {
  // Running values: start as the state's, end as what the state becomes after COMMIT.
  int64_t next_id = 1;
  int64_t first_new_id = 1;  // ids >= this were assigned by this transaction
  int64_t cursor = 0;
  int64_t min_id = 1;
  int64_t dropped_through = 0;
  int64_t backlog = 0;
  int64_t used_bytes = 0;  // estimate: state's used bytes + added - freed
  LastRun last_run;
  // What happened.
  int64_t appended = 0;      // events inserted
  int64_t requests = 0;      // requests inserted
  int64_t shipped = 0;       // pending events marked shipped
  int64_t evicted = 0;       // pending events deleted to make room
  int64_t pruned = 0;        // shipped events deleted (room or retention)
  int64_t dead_letters = 0;  // dead letters stored
  bool deleted = false;      // any event row deleted (the high-water mark must be kept)
  int64_t high_water = 0;
  StringMap<DeviceDelta> devices;
  StringMap<int64_t> new_device_rows;  // devices first stored by this transaction -> row id

  // Starts a transaction's effects from the committed state. REQUIRES: txn_mu held.
  static TxnEffects Begin(const BufferState& s);
  // Makes the effects the committed state and updates the counters (all but used_bytes,
  // which the write path reads from the file after COMMIT). REQUIRES: txn_mu held.
  void Apply(BufferState* s, StoreCounters* c) const;
};

}  // namespace cistern
