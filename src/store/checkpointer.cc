#include "store/checkpointer.h"

#include <spdlog/spdlog.h>

#include "common/thread_name.h"

namespace cistern {
namespace {

// Keep the checkpoint close behind the writer: the writer's own WAL reset (Writer::
// MaybeResetWal) then only copies the few frames appended since the last run here.
constexpr auto kPoll = std::chrono::milliseconds(20);
constexpr int64_t kWalFramesThreshold = 1000;  // ~4 MiB of 4 KiB pages
constexpr auto kMaxCheckpointDelay = std::chrono::seconds(1);
constexpr auto kIdleBeforeTruncate = std::chrono::seconds(2);

}  // namespace

Result<std::unique_ptr<Checkpointer>> Checkpointer::Start(const std::string& path,
                                                          StoreCounters* counters) {
  auto db = sql::Db::Open(path, sql::Db::Mode::kReadWrite);
  if (!db.ok()) return db.status();
  // Never wait on the writer: a busy checkpoint is simply tried again next time.
  sqlite3_busy_timeout((*db)->handle(), 0);
  std::unique_ptr<Checkpointer> c(new Checkpointer(std::move(db.value()), counters));
  c->thread_ = std::thread([p = c.get()] { p->Run(); });
  return c;
}

Checkpointer::~Checkpointer() { Stop(); }

void Checkpointer::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  db_.reset();
}

void Checkpointer::Run() {
  SetThreadName("cistern-ckpt");
  using Clock = std::chrono::steady_clock;
  int64_t done_commits = counters_->commits.load();  // commits already folded in
  int64_t seen_commits = done_commits;
  auto last_change = Clock::now();
  auto last_checkpoint = Clock::now();
  bool truncated = true;
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, kPoll, [&] { return stop_; })) {
    int64_t commits = counters_->commits.load(std::memory_order_relaxed);
    auto now = Clock::now();
    if (commits != seen_commits) {
      seen_commits = commits;
      last_change = now;
      truncated = false;
    }
    int mode = -1;
    if (commits != done_commits &&
        (counters_->wal_frames.load(std::memory_order_relaxed) >= kWalFramesThreshold ||
         now - last_checkpoint >= kMaxCheckpointDelay)) {
      mode = SQLITE_CHECKPOINT_PASSIVE;
    } else if (!truncated && now - last_change >= kIdleBeforeTruncate) {
      mode = SQLITE_CHECKPOINT_TRUNCATE;
    }
    if (mode < 0) continue;
    lock.unlock();
    int log = 0, ckpt = 0;
    int rc = sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, mode, &log, &ckpt);
    lock.lock();
    last_checkpoint = now;
    if (rc == SQLITE_OK) {
      done_commits = commits;
      counters_->checkpoints.fetch_add(1, std::memory_order_relaxed);
      if (mode == SQLITE_CHECKPOINT_TRUNCATE) truncated = true;
    } else if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
      spdlog::warn("wal checkpoint: {}", sqlite3_errmsg(db_->handle()));
    }
  }
}

}  // namespace cistern
