#include "store/writer.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "common/thread_name.h"

namespace cistern {

Writer::Writer(std::unique_ptr<sql::Db> db, WriterLimits limits, StoreCounters* counters)
    : limits_(limits), counters_(counters), db_(std::move(db)) {}

Result<std::unique_ptr<Writer>> Writer::Start(std::unique_ptr<sql::Db> db, WriterLimits limits,
                                              StoreCounters* counters) {
  std::unique_ptr<Writer> w(new Writer(std::move(db), limits, counters));
  if (Status s = w->Restore(); !s.ok()) return s;
  sqlite3_wal_hook(w->db_->handle(), &Writer::OnWalCommit, w.get());
  // An operator's `sqlite3` write may hold the lock briefly; wait for it rather than fail.
  sqlite3_busy_timeout(w->db_->handle(), 5000);
  w->thread_ = std::thread([p = w.get()] { p->Run(); });
  return w;
}

Writer::~Writer() { Stop(); }

Status Writer::Restore() {
  auto insert = db_->Prepare(
      "INSERT INTO events(id, device_id, kind, payload_json, ts) VALUES(?1, ?2, ?3, ?4, ?5)");
  if (!insert.ok()) return insert.status();
  insert_ = std::move(insert.value());

  // max(id) is one B-tree descent. `id_high_water` in meta covers a table whose newest rows
  // were deleted (retention), so ids are never reused: sinks de-duplicate on them.
  auto max_id = db_->QueryInt("SELECT max(id) FROM events", 0);
  if (!max_id.ok()) return max_id.status();
  auto high = db_->QueryInt("SELECT CAST(value AS INTEGER) FROM meta WHERE key='id_high_water'", 0);
  if (!high.ok()) return high.status();
  int64_t last = std::max(*max_id, *high);
  next_id_ = last + 1;
  counters_->events_written = last;

  // Served by the partial index events_backlog: O(backlog), not a table scan.
  auto backlog = db_->QueryInt("SELECT count(*) FROM events WHERE uploaded_at IS NULL");
  if (!backlog.ok()) return backlog.status();
  counters_->backlog = *backlog;
  counters_->admitted = *backlog;

  // Devices: the uploaded ones are in `devices`; pending ones are read through the backlog
  // index (O(backlog)).
  for (const char* q : {"SELECT device_key FROM devices",
                        "SELECT DISTINCT device_id FROM events WHERE uploaded_at IS NULL"}) {
    auto stmt = db_->Prepare(q);
    if (!stmt.ok()) return stmt.status();
    for (;;) {
      auto row = (*stmt)->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      devices_.emplace((*stmt)->ColumnText(0));
    }
  }
  counters_->devices_seen = static_cast<int64_t>(devices_.size());
  return SaveHighWater();
}

Status Writer::SaveHighWater() {
  auto put = db_->Prepare(
      "INSERT INTO meta(key, value) VALUES('id_high_water', ?1) "
      "ON CONFLICT(key) DO UPDATE SET value=excluded.value");
  if (!put.ok()) return put.status();
  std::string text = std::to_string(next_id_ - 1);
  (*put)->BindText(1, text);
  return (*put)->Run();
}

int Writer::OnWalCommit(void* self, sqlite3* db, const char* name, int frames) {
  // Runs inside COMMIT, after the WAL was synced: the group is already durable.
  // We checkpoint here, small and often, as SQLite's own auto-checkpoint would. Measured on
  // this box (bench/run-http, docs/storage.md), this beat a background checkpointer thread
  // on throughput *and* tail latency: under sustained load a background PASSIVE checkpoint
  // never catches up with the writer, the WAL can only rewind once a checkpoint has copied
  // every frame, and the stall that finally resets it is long. Frequent small checkpoints
  // copy few distinct pages and keep the WAL file small.
  auto* w = static_cast<Writer*>(self);
  w->counters_->wal_frames.store(frames, std::memory_order_relaxed);
  if (frames < w->limits_.checkpoint_frames) return SQLITE_OK;
  auto t0 = std::chrono::steady_clock::now();
  int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  w->counters_->checkpoint_latency.Record(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count()));
  if (rc == SQLITE_OK) w->counters_->checkpoints.fetch_add(1, std::memory_order_relaxed);
  // A failed or partial checkpoint is not an error of the commit: it is retried next time.
  return SQLITE_OK;
}

void Writer::Submit(EventBatch batch, AppendCallback done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Request{std::move(batch), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(AppendResult{Status::Unavailable("shutting down"), 0, 0});
}

size_t Writer::QueueDepth() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void Writer::Run() {
  SetThreadName("cistern-writer");
  std::deque<Request> group;
  std::vector<int64_t> first_ids;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is done
      size_t events = 0;
      while (!queue_.empty() && group.size() < limits_.max_group_requests) {
        size_t n = queue_.front().batch.size();
        if (!group.empty() && events + n > limits_.max_group_events) break;
        events += n;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    first_ids.clear();
    Status s = CommitGroup(group, &first_ids);
    for (size_t i = 0; i < group.size(); ++i) {
      group[i].done(AppendResult{s, s.ok() ? first_ids[i] : 0, group[i].batch.size()});
    }
    group.clear();
  }
}

Status Writer::CommitGroup(std::deque<Request>& group, std::vector<int64_t>* first_ids) {
  int64_t events = 0;
  for (const Request& r : group) events += static_cast<int64_t>(r.batch.size());
  auto fail = [&](Status s) {
    counters_->admitted.fetch_sub(events);
    counters_->commit_failures.fetch_add(1);
    return s;
  };
  if (!sticky_error_.ok()) return fail(sticky_error_);

  auto t0 = std::chrono::steady_clock::now();
  sqlite3* db = db_->handle();
  sqlite3_stmt* ins = insert_->handle();
  int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  const char* step = "begin";
  int64_t id = next_id_;
  if (rc == SQLITE_OK) {
    step = "insert";
    for (const Request& r : group) {
      first_ids->push_back(id);
      for (size_t i = 0; i < r.batch.size() && rc == SQLITE_OK; ++i) {
        EventView e = r.batch[i];
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
        rc = sqlite3_step(ins);
        if (rc == SQLITE_DONE) rc = SQLITE_OK;
        sqlite3_reset(ins);
        ++id;
      }
      if (rc != SQLITE_OK) break;
    }
  }
  if (rc == SQLITE_OK) {
    step = "commit";
    rc = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  if (rc != SQLITE_OK) {
    Status s = sql::MapError(rc, db, std::string(step) + " events");
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    if (s.code() == Status::Code::kDiskFull) {
      spdlog::warn("disk full: {} request(s) refused; ingest resumes when space returns",
                   group.size());
    } else if (s.code() == Status::Code::kBusy) {
      s = Status::Unavailable(s.message());
    } else {
      sticky_error_ =
          Status::IoError("store failed and refuses writes until restart: " + s.message());
      spdlog::error("{}", sticky_error_.message());
    }
    return fail(s);
  }

  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  counters_->commit_latency.Record(static_cast<uint64_t>(micros));
  next_id_ = id;
  for (const Request& r : group) {
    for (size_t i = 0; i < r.batch.size(); ++i) {
      std::string_view dev = r.batch[i].device_id;
      if (devices_.find(dev) == devices_.end()) devices_.emplace(dev);
    }
  }
  counters_->devices_seen.store(static_cast<int64_t>(devices_.size()));
  counters_->events_written.store(id - 1);
  counters_->events_written_session.fetch_add(events);
  counters_->backlog.fetch_add(events);
  counters_->commits.fetch_add(1);
  counters_->requests_committed.fetch_add(static_cast<int64_t>(group.size()));
  return Status::Ok();
}

void Writer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  if (db_) {
    // The thread is gone: this thread now owns the connection. Record the id high-water
    // mark, then fold the WAL into the main file so a stopped collector leaves one
    // self-contained file behind.
    if (sticky_error_.ok()) {
      if (Status s = SaveHighWater(); !s.ok())
        spdlog::warn("saving id_high_water: {}", s.message());
    }
    int log = 0, ckpt = 0;
    int rc =
        sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &ckpt);
    if (rc != SQLITE_OK) spdlog::warn("final checkpoint: {}", sqlite3_errmsg(db_->handle()));
    insert_.reset();
    db_.reset();
  }
}

}  // namespace cistern
