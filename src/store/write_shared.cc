#include "store/write_shared.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace cistern {

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

void DeviceSet::Add(std::string_view device) {
  std::lock_guard lock(mu_);
  if (set_.find(device) == set_.end()) set_.emplace(device);
}

void DeviceSet::AddAll(const EventBatch& batch) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < batch.size(); ++i) {
    std::string_view dev = batch[i].device_id;
    if (set_.find(dev) == set_.end()) set_.emplace(dev);
  }
}

int64_t DeviceSet::size() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(set_.size());
}

Status LoadState(sql::Db& db, WriteState* state) {
  StoreCounters* c = state->counters;
  // max(id) is one B-tree descent; id_high_water covers newest rows deleted meanwhile.
  auto max_id = db.QueryInt("SELECT max(id) FROM events", 0);
  if (!max_id.ok()) return max_id.status();
  auto high = db.QueryInt("SELECT CAST(value AS INTEGER) FROM meta WHERE key='id_high_water'", 0);
  if (!high.ok()) return high.status();
  int64_t last = std::max(*max_id, *high);
  state->next_id = last + 1;
  c->events_written = last;

  // Served by the partial index events_backlog: O(backlog), not a table scan.
  auto backlog = db.QueryInt("SELECT count(*) FROM events WHERE uploaded_at IS NULL");
  if (!backlog.ok()) return backlog.status();
  c->backlog = *backlog;
  c->admitted = *backlog;

  for (const char* q : {"SELECT device_key FROM devices",
                        "SELECT DISTINCT device_id FROM events WHERE uploaded_at IS NULL"}) {
    auto stmt = db.Prepare(q);
    if (!stmt.ok()) return stmt.status();
    for (;;) {
      auto row = (*stmt)->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      state->devices.Add((*stmt)->ColumnText(0));
    }
  }
  c->devices_seen = state->devices.size();
  return SaveHighWater(db, last);
}

Status SaveHighWater(sql::Db& db, int64_t last_id) {
  auto put = db.Prepare(
      "INSERT INTO meta(key, value) VALUES('id_high_water', ?1) "
      "ON CONFLICT(key) DO UPDATE SET value=excluded.value");
  if (!put.ok()) return put.status();
  std::string text = std::to_string(last_id);
  (*put)->BindText(1, text);
  return (*put)->Run();
}

int InsertEvents(sqlite3_stmt* ins, const EventBatch& batch, int64_t first_id) {
  int64_t id = first_id;
  for (size_t i = 0; i < batch.size(); ++i, ++id) {
    EventView e = batch[i];
    sqlite3_bind_int64(ins, 1, id);
    sqlite3_bind_text(ins, 2, e.device_id.data(), static_cast<int>(e.device_id.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(ins, 3, e.kind.data(), static_cast<int>(e.kind.size()), SQLITE_STATIC);
    if (e.has_payload) {
      sqlite3_bind_text(ins, 4, e.payload_json.data(), static_cast<int>(e.payload_json.size()),
                        SQLITE_STATIC);
    } else {
      sqlite3_bind_null(ins, 4);
    }
    sqlite3_bind_int64(ins, 5, e.ts);
    int rc = sqlite3_step(ins);
    sqlite3_reset(ins);
    if (rc != SQLITE_DONE) return rc;
  }
  return SQLITE_OK;
}

namespace {

int OnWalCommit(void* arg, sqlite3* db, const char* name, int frames) {
  // Runs inside COMMIT, after the WAL was synced: the transaction is already durable.
  // Small, frequent checkpoints here beat a background checkpointer thread on this box on
  // throughput *and* tail latency (docs/storage.md has the measurements): a background
  // PASSIVE checkpoint never catches up under sustained load, and the WAL can only rewind
  // once a checkpoint copied every frame, so the stall that finally resets it is long.
  auto* state = static_cast<WriteState*>(arg);
  state->counters->wal_frames.store(frames, std::memory_order_relaxed);
  if (frames < state->checkpoint_frames) return SQLITE_OK;
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
  if (StickyError(state).ok()) {
    Status s = SaveHighWater(db, state->next_id.load() - 1);
    if (!s.ok()) spdlog::warn("saving id_high_water: {}", s.message());
  }
  int rc =
      sqlite3_wal_checkpoint_v2(db.handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  if (rc != SQLITE_OK) spdlog::warn("final checkpoint: {}", sqlite3_errmsg(db.handle()));
}

Status StickyError(WriteState* state) {
  std::lock_guard lock(state->sticky_mu);
  return state->sticky;
}

Status ClassifyFailure(int rc, sqlite3* db, const char* step, WriteState* state) {
  Status s = sql::MapError(rc, db, std::string(step) + " events");
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

void RecordCommit(WriteState* state, int64_t events, int64_t requests, uint64_t micros) {
  StoreCounters* c = state->counters;
  c->commit_latency.Record(micros);
  int64_t last = state->next_id.load(std::memory_order_relaxed) - 1;
  // In the direct modes ids are handed out before commit: never let the gauge go back.
  int64_t prev = c->events_written.load(std::memory_order_relaxed);
  while (prev < last && !c->events_written.compare_exchange_weak(prev, last)) {
  }
  c->devices_seen.store(state->devices.size(), std::memory_order_relaxed);
  c->events_written_session.fetch_add(events, std::memory_order_relaxed);
  c->backlog.fetch_add(events, std::memory_order_relaxed);
  c->commits.fetch_add(1, std::memory_order_relaxed);
  c->requests_committed.fetch_add(requests, std::memory_order_relaxed);
}

void RecordFailure(WriteState* state, int64_t events) {
  state->counters->admitted.fetch_sub(events);
  state->counters->commit_failures.fetch_add(1);
}

}  // namespace cistern
