// What every write mode shares: restoring state at start-up, binding a batch, recording a
// commit in the counters, classifying failures, the in-commit checkpoint hook, and the set
// of devices seen. Used only by the WritePath implementations.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/status.h"
#include "event/event.h"
#include "store/counters.h"
#include "store/sqlite.h"
#include "store/write_path.h"

namespace cistern {

// Device ids seen (uploaded ones from `devices`, plus every device written since).
// Thread-safe; the lock is uncontended in group mode (one writer thread).
class DeviceSet {
 public:
  void Add(std::string_view device);
  void AddAll(const EventBatch& batch);
  int64_t size() const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  mutable std::mutex mu_;
  std::unordered_set<std::string, Hash, std::equal_to<>> set_;  // guarded by mu_
};

// State shared by a write path's connections. Lives as long as the write path.
struct WriteState {
  StoreCounters* counters = nullptr;
  DeviceSet devices;
  std::atomic<int64_t> next_id{1};
  int checkpoint_frames = 1000;
  std::mutex sticky_mu;
  Status sticky;  // guarded by sticky_mu: once set, every write fails with it
};

// Reads the id high-water mark, the backlog and the devices into `state` (O(backlog +
// devices), never a table scan) and saves the high-water mark.
Status LoadState(sql::Db& db, WriteState* state);

// meta.id_high_water = last_id (start-up and clean stop; see docs/storage.md).
Status SaveHighWater(sql::Db& db, int64_t last_id);

// The INSERT every mode prepares once per connection.
inline constexpr const char* kInsertEventSql =
    "INSERT INTO events(id, device_id, kind, payload_json, ts) VALUES(?1, ?2, ?3, ?4, ?5)";

// Binds and steps `insert` for every event of `batch` with ids first_id, first_id+1, ...
// Returns the SQLite result code (SQLITE_OK on success).
int InsertEvents(sqlite3_stmt* insert, const EventBatch& batch, int64_t first_id);

// Installs the WAL hook that records WAL size and runs a small PASSIVE checkpoint once the
// WAL reaches state->checkpoint_frames (see docs/storage.md for why in-commit).
void InstallCheckpointHook(sqlite3* db, WriteState* state);

// Turns a failed transaction's SQLite code into the Status its requests get, and makes it
// sticky when the file state is unknown (anything but disk full and busy).
Status ClassifyFailure(int rc, sqlite3* db, const char* step, WriteState* state);

// The last use of a write path's connection at a clean stop: saves meta.id_high_water
// (unless the store failed) and folds the WAL into the main file (TRUNCATE checkpoint), so a
// stopped collector leaves one self-contained file. Problems are logged, not returned.
void FinishWriteConnection(sql::Db& db, WriteState* state);

// Returns the sticky error, or ok.
Status StickyError(WriteState* state);

// After a successful COMMIT of `requests` requests holding `events` events.
void RecordCommit(WriteState* state, int64_t events, int64_t requests, uint64_t micros);
// After a failed transaction: gives the events' admission back.
void RecordFailure(WriteState* state, int64_t events);

}  // namespace cistern
