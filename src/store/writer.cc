#include "store/writer.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "common/thread_name.h"

namespace cistern {

Writer::Writer(std::unique_ptr<sql::Db> db, std::unique_ptr<Lifecycle> lifecycle, WriteState* state,
               WriterLimits limits)
    : limits_(limits), state_(state), db_(std::move(db)), lifecycle_(std::move(lifecycle)) {}

Result<std::unique_ptr<Writer>> Writer::Start(std::unique_ptr<sql::Db> db,
                                              std::unique_ptr<Lifecycle> lifecycle,
                                              WriteState* state, WriterLimits limits) {
  std::unique_ptr<Writer> w(new Writer(std::move(db), std::move(lifecycle), state, limits));
  InstallCheckpointHook(w->db_->handle(), state);
  w->thread_ = std::thread([p = w.get()] { p->Loop(); });
  return w;
}

Writer::~Writer() { Stop(); }

void Writer::Submit(EventBatch batch, AppendExtras extras, int64_t bytes, AppendCallback done) {
  AppendItem item;
  item.batch = std::move(batch);
  item.extras = std::move(extras);
  item.bytes = bytes;
  item.done = std::move(done);
  Enqueue(std::move(item));
}

void Writer::Run(LifecycleOp op, OpCallback done) {
  Enqueue(OpItem{std::move(op), std::move(done), {}});
}

void Writer::Enqueue(WriteItem item) {
  const bool append = std::holds_alternative<AppendItem>(item);
  Status refused = Status::Unavailable("shutting down");
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && (!append || queued_appends_ < limits_.max_queued_requests)) {
      queued_appends_ += append ? 1 : 0;
      queue_.push_back(std::move(item));
      cv_.notify_one();
      return;
    }
    if (!stopping_) refused = Status::BufferFull("writer queue full");
  }
  // Refused before any transaction (not a commit failure).
  CompleteItems(std::span<WriteItem>(&item, 1), refused, state_);
}

size_t Writer::QueueDepth() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void Writer::Loop() {
  SetThreadName("cistern-writer");
  std::vector<WriteItem> group;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is done
      size_t events = 0;
      while (!queue_.empty() && group.size() < limits_.max_group_requests) {
        auto* a = std::get_if<AppendItem>(&queue_.front());
        size_t n = a ? a->batch.size() : 0;
        if (!group.empty() && events + n > limits_.max_group_events) break;
        events += n;
        queued_appends_ -= a ? 1 : 0;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    Status failure = CommitGroup(group);
    CompleteItems(group, failure, state_);
    group.clear();
  }
}

Status Writer::CommitGroup(std::vector<WriteItem>& group) {
  if (Status sticky = StickyError(state_); !sticky.ok()) {
    state_->counters->commit_failures.fetch_add(1);
    return sticky;
  }
  CommitTimer timer;
  auto t0 = std::chrono::steady_clock::now();
  sqlite3* db = db_->handle();
  std::lock_guard txn(state_->buffer->txn_mu);
  TxnEffects fx = TxnEffects::Begin(*state_->buffer);
  int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  timer.Began();
  if (rc != SQLITE_OK) return ClassifyFailure(rc, db, "begin", state_);
  if (Status s = StoreAndCommit(db, *lifecycle_, state_, group, &fx, &timer); !s.ok()) return s;
  if (fx.evicted > 0 && t0 - last_drop_log_ >= std::chrono::seconds(10)) {
    last_drop_log_ = t0;
    spdlog::warn(
        "buffer full: evicted the {} oldest pending event(s) to admit new ones "
        "(--on-full drop-oldest; {} evicted since start)",
        fx.evicted, state_->counters->events_dropped.load());
  }
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
    // The thread is gone: this thread now owns the connection.
    std::lock_guard txn(state_->buffer->txn_mu);
    lifecycle_.reset();
    FinishWriteConnection(*db_, state_);
    db_.reset();
  }
}

}  // namespace cistern
