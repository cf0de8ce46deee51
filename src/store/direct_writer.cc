#include "store/direct_writer.h"

#include <chrono>
#include <random>

#include "store/schema.h"

namespace cistern {
namespace {

// Concurrent mode's retry budget for one request: plenty for a busy file, bounded so a
// wedged file answers 503 instead of hanging the client.
constexpr int kMaxAttempts = 1000;
constexpr auto kMaxBackoff = std::chrono::microseconds(2000);

bool IsConflict(int rc) { return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED; }

void Backoff(int attempt) {
  thread_local std::minstd_rand rng(std::random_device{}());
  auto cap = std::min<int64_t>(kMaxBackoff.count(), int64_t{20} << std::min(attempt, 7));
  std::this_thread::sleep_for(std::chrono::microseconds(rng() % (cap + 1)));
}

}  // namespace

DirectWriter::DirectWriter(WriteMode mode, std::string path, WriteState* state)
    : mode_(mode), path_(std::move(path)), state_(state) {}

Result<std::unique_ptr<DirectWriter>> DirectWriter::Start(WriteMode mode, std::string path,
                                                          std::unique_ptr<sql::Db> db,
                                                          std::unique_ptr<Lifecycle> lifecycle,
                                                          WriteState* state) {
  std::unique_ptr<DirectWriter> w(new DirectWriter(mode, std::move(path), state));
  InstallCheckpointHook(db->handle(), state);
  w->serial_.db = std::move(db);
  w->serial_.lifecycle = std::move(lifecycle);
  return w;
}

DirectWriter::~DirectWriter() { Stop(); }

bool DirectWriter::Enter() {
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  ++in_flight_;
  return true;
}

void DirectWriter::Leave() {
  std::lock_guard lock(mu_);
  if (--in_flight_ == 0) idle_cv_.notify_all();
}

DirectWriter::Conn* DirectWriter::Acquire(Status* error) {
  if (mode_ == WriteMode::kSerialized) return &serial_;
  std::lock_guard lock(mu_);
  auto& slot = conns_[std::this_thread::get_id()];
  if (!slot) {
    auto fail = [&](Status s) -> Conn* {
      *error = std::move(s);
      conns_.erase(std::this_thread::get_id());
      return nullptr;
    };
    auto db = sql::Db::Open(path_, sql::Db::Mode::kReadWrite);
    if (!db.ok()) return fail(db.status());
    if (Status s = ConfigureWriter(**db); !s.ok()) return fail(s);
    auto lifecycle = Lifecycle::Prepare(**db);
    if (!lifecycle.ok()) return fail(lifecycle.status());
    // No busy handler: conflicts surface at once and are retried (and counted) by us.
    sqlite3_busy_timeout((*db)->handle(), 0);
    InstallCheckpointHook((*db)->handle(), state_);
    slot = std::make_unique<Conn>(Conn{std::move(db.value()), std::move(lifecycle.value())});
  }
  return slot.get();
}

void DirectWriter::Transact(WriteItem item) {
  std::span<WriteItem> items(&item, 1);
  if (!Enter()) return CompleteItems(items, Status::Unavailable("shutting down"), state_);
  Status failure = StickyError(state_);
  Conn* conn = failure.ok() ? Acquire(&failure) : nullptr;
  if (!conn) {
    state_->counters->commit_failures.fetch_add(1);
    CompleteItems(items, failure, state_);
    return Leave();
  }
  std::unique_lock<std::mutex> serial;
  if (mode_ == WriteMode::kSerialized) serial = std::unique_lock(serial_mu_);
  sqlite3* db = conn->db->handle();
  CommitTimer timer;
  for (int attempt = 0;; ++attempt) {
    // BEGIN IMMEDIATE takes SQLite's write lock: from here on this thread alone writes, so
    // it may take ids and change the shared state (txn_mu is then never contended).
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      if (mode_ == WriteMode::kConcurrent && IsConflict(rc) && attempt + 1 < kMaxAttempts) {
        state_->counters->commit_conflicts.fetch_add(1, std::memory_order_relaxed);
        Backoff(attempt);
        continue;
      }
      failure = ClassifyFailure(rc, db, "begin", state_);
      break;
    }
    std::lock_guard txn(state_->buffer->txn_mu);
    timer.Began();
    TxnEffects fx = TxnEffects::Begin(*state_->buffer);
    failure = StoreAndCommit(db, *conn->lifecycle, state_, items, &fx, &timer);
    break;
  }
  CompleteItems(items, failure, state_);
  Leave();
}

void DirectWriter::Submit(EventBatch batch, AppendExtras extras, int64_t bytes,
                          AppendCallback done) {
  AppendItem item;
  item.batch = std::move(batch);
  item.extras = std::move(extras);
  item.bytes = bytes;
  item.done = std::move(done);
  Transact(std::move(item));
}

void DirectWriter::Run(LifecycleOp op, OpCallback done) {
  Transact(OpItem{std::move(op), std::move(done), {}});
}

void DirectWriter::Stop() {
  std::unique_lock lock(mu_);
  if (stopping_ && !serial_.db) return;
  stopping_ = true;
  idle_cv_.wait(lock, [&] { return in_flight_ == 0; });
  conns_.clear();
  if (serial_.db) {
    std::lock_guard txn(state_->buffer->txn_mu);
    serial_.lifecycle.reset();
    FinishWriteConnection(*serial_.db, state_);
    serial_.db.reset();
  }
}

}  // namespace cistern
