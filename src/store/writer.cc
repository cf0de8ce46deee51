#include "store/writer.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "common/thread_name.h"

namespace cistern {

Writer::Writer(std::unique_ptr<sql::Db> db, WriterLimits limits, StoreCounters* counters)
    : limits_(limits), db_(std::move(db)) {
  state_.counters = counters;
}

Result<std::unique_ptr<Writer>> Writer::Start(std::unique_ptr<sql::Db> db, WriterLimits limits,
                                              StoreCounters* counters) {
  std::unique_ptr<Writer> w(new Writer(std::move(db), limits, counters));
  auto insert = w->db_->Prepare(kInsertEventSql);
  if (!insert.ok()) return insert.status();
  w->insert_ = std::move(insert.value());
  if (Status s = LoadState(*w->db_, &w->state_); !s.ok()) return s;
  // The oldest uploaded events before the first pending one (uploads go in id order, so
  // they form the table's head): O(n) through the rowid and the backlog index.
  auto prune = w->db_->Prepare(
      "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE id < "
      "(SELECT coalesce(min(id), 9223372036854775807) FROM events WHERE uploaded_at IS NULL) "
      "ORDER BY id LIMIT ?1)");
  // The oldest un-uploaded events: O(n) through the backlog index.
  auto evict = w->db_->Prepare(
      "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE uploaded_at IS NULL "
      "ORDER BY id LIMIT ?1)");
  auto pages = w->db_->Prepare("PRAGMA page_count");
  auto freelist = w->db_->Prepare("PRAGMA freelist_count");
  for (auto* r : {&prune, &evict, &pages, &freelist}) {
    if (!r->ok()) return r->status();
  }
  w->prune_ = std::move(prune.value());
  w->evict_ = std::move(evict.value());
  w->page_count_ = std::move(pages.value());
  w->freelist_count_ = std::move(freelist.value());
  w->page_size_ = w->db_->QueryInt("PRAGMA page_size", 4096).value();
  w->RefreshUsedBytes();
  InstallCheckpointHook(w->db_->handle(), &w->state_);
  w->thread_ = std::thread([p = w.get()] { p->Run(); });
  return w;
}

Writer::~Writer() { Stop(); }

void Writer::Submit(EventBatch batch, AppendCallback done) {
  Item item;
  item.batch = std::move(batch);
  item.done = std::move(done);
  Enqueue(std::move(item));
}

void Writer::Exec(Job job, JobCallback done) {
  Item item;
  item.job = std::move(job);
  item.job_done = std::move(done);
  Enqueue(std::move(item));
}

void Writer::Enqueue(Item item) {
  Status closed = Status::Unavailable("shutting down");
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && (item.job || queue_.size() < limits_.max_queued_requests)) {
      queue_.push_back(std::move(item));
      cv_.notify_one();
      return;
    }
    if (!stopping_) closed = Status::BufferFull("writer queue full");
  }
  // Refused before any transaction: give the admission back (not a commit failure).
  if (!item.job) state_.counters->admitted.fetch_sub(static_cast<int64_t>(item.batch.size()));
  if (item.job) {
    item.job_done(closed);
  } else {
    item.done(AppendResult{closed, 0, 0});
  }
}

size_t Writer::QueueDepth() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void Writer::Run() {
  SetThreadName("cistern-writer");
  std::deque<Item> group;
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
      Item& item = group[i];
      if (item.job) {
        item.job_done(s.ok() ? item.job_status : s);
      } else {
        item.done(AppendResult{s, s.ok() ? first_ids[i] : 0, item.batch.size()});
      }
    }
    group.clear();
  }
}

Status Writer::CommitGroup(std::deque<Item>& group, std::vector<int64_t>* first_ids) {
  int64_t events = 0;
  for (const Item& item : group) events += static_cast<int64_t>(item.batch.size());
  if (Status sticky = StickyError(&state_); !sticky.ok()) {
    RecordFailure(&state_, events);
    return sticky;
  }

  auto t0 = std::chrono::steady_clock::now();
  sqlite3* db = db_->handle();
  const int64_t first = state_.next_id.load(std::memory_order_relaxed);
  int64_t id = first;
  const char* step = "begin";
  int64_t pruned = 0, dropped = 0;
  int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) {
    step = "make room for";
    rc = MakeRoom(events, &pruned, &dropped);
  }
  if (rc == SQLITE_OK) {
    step = "insert";
    for (Item& item : group) {
      first_ids->push_back(id);
      if (item.job) {
        rc = RunJob(item);
      } else {
        rc = InsertEvents(insert_->handle(), item.batch, id);
        id += static_cast<int64_t>(item.batch.size());
      }
      if (rc != SQLITE_OK) break;
    }
  }
  if (rc == SQLITE_OK) {
    step = "commit";
    rc = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  if (rc != SQLITE_OK) {
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    RecordFailure(&state_, events);
    return ClassifyFailure(rc, db, step, &state_);
  }
  state_.next_id.store(id, std::memory_order_relaxed);
  if (dropped > 0) {
    StoreCounters* c = state_.counters;
    c->backlog.fetch_sub(dropped);
    c->admitted.fetch_sub(dropped);
    c->events_dropped.fetch_add(dropped);
    auto now = std::chrono::steady_clock::now();
    if (now - last_drop_log_ >= std::chrono::seconds(10)) {
      spdlog::warn(
          "buffer full: evicted the {} oldest un-uploaded event(s) (--on-full "
          "drop-oldest; {} evicted since start)",
          dropped, c->events_dropped.load());
      last_drop_log_ = now;
    }
  }
  if (pruned > 0) state_.counters->events_pruned.fetch_add(pruned);
  RefreshUsedBytes();
  for (const Item& item : group) {
    if (!item.job) state_.devices.AddAll(item.batch);
  }
  RecordCommit(&state_, events, static_cast<int64_t>(group.size()),
               static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::steady_clock::now() - t0)
                                         .count()));
  return Status::Ok();
}

int Writer::RunJob(Item& item) {
  // A savepoint confines a job's failure to the job: the requests sharing its group are
  // unaffected. Only a failure of SQLite itself (rc) fails the whole group.
  sqlite3* db = db_->handle();
  int rc = sqlite3_exec(db, "SAVEPOINT job", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return rc;
  item.job_status = item.job(*db_);
  if (!item.job_status.ok()) {
    rc = sqlite3_exec(db, "ROLLBACK TO job", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return rc;
  }
  return sqlite3_exec(db, "RELEASE job", nullptr, nullptr, nullptr);
}

int Writer::MakeRoom(int64_t incoming, int64_t* pruned, int64_t* dropped) {
  sqlite3* db = db_->handle();
  auto run = [&](sql::Stmt& stmt, int64_t n, int64_t* count) {
    sqlite3_bind_int64(stmt.handle(), 1, n);
    int rc = sqlite3_step(stmt.handle());
    sqlite3_reset(stmt.handle());
    if (rc != SQLITE_DONE) return rc;
    *count += sqlite3_changes(db);
    return SQLITE_OK;
  };
  StoreCounters* c = state_.counters;
  const bool over_bytes = limits_.max_db_bytes > 0 &&
                          c->used_bytes.load(std::memory_order_relaxed) >= limits_.max_db_bytes;
  // Freed pages are reused by the inserts that follow, so deleting about as many events as
  // arrive keeps the file from growing.
  const int64_t room = std::max<int64_t>(incoming, 64);
  if (over_bytes) {
    if (int rc = run(*prune_, room, pruned); rc != SQLITE_OK) return rc;
  }
  if (!limits_.drop_oldest) return SQLITE_OK;
  int64_t evict = 0;
  if (limits_.max_backlog > 0) {
    evict = c->backlog.load(std::memory_order_relaxed) + incoming - limits_.max_backlog;
  }
  if (over_bytes && *pruned < room) evict = std::max(evict, room - *pruned);
  if (evict <= 0) return SQLITE_OK;
  return run(*evict_, evict, dropped);
}

void Writer::RefreshUsedBytes() {
  if (limits_.max_db_bytes <= 0) return;
  auto read = [](sql::Stmt& s) {
    int64_t v = sqlite3_step(s.handle()) == SQLITE_ROW ? sqlite3_column_int64(s.handle(), 0) : 0;
    sqlite3_reset(s.handle());
    return v;
  };
  int64_t used = (read(*page_count_) - read(*freelist_count_)) * page_size_;
  state_.counters->used_bytes.store(used, std::memory_order_relaxed);
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
    // The thread is gone: this thread now owns the connection.
    FinishWriteConnection(*db_, &state_);
    insert_.reset();
    prune_.reset();
    evict_.reset();
    page_count_.reset();
    freelist_count_.reset();
    db_.reset();
  }
}

}  // namespace cistern
