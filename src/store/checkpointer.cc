#include "store/checkpointer.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "common/thread_name.h"

namespace cistern {

Result<std::unique_ptr<Checkpointer>> Checkpointer::Start(const std::string& path,
                                                          StoreCounters* counters) {
  auto db = sql::Db::Open(path, sql::Db::Mode::kReadWrite);
  if (!db.ok()) return db.status();
  // Never wait on the writer's own (small) checkpoint: try again at the next nudge.
  sqlite3_busy_timeout((*db)->handle(), 0);
  // A connection that has not read the file yet does not know it is in WAL mode: its
  // checkpoints would do nothing and report -1 frames. One read opens the WAL.
  if (Status s = (*db)->Exec("SELECT count(*) FROM sqlite_schema"); !s.ok()) return s;
  std::unique_ptr<Checkpointer> c(new Checkpointer(std::move(db.value()), counters));
  c->thread_ = std::thread([p = c.get()] { p->Loop(); });
  return c;
}

Checkpointer::~Checkpointer() { Stop(); }

void Checkpointer::Nudge() {
  {
    std::lock_guard lock(mu_);
    if (nudged_) return;
    nudged_ = true;
  }
  cv_.notify_one();
}

void Checkpointer::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  db_.reset();
}

void Checkpointer::Loop() {
  SetThreadName("cistern-ckpt");
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return nudged_ || stopping_; });
    if (stopping_) return;
    nudged_ = false;
    lock.unlock();
    const auto t0 = std::chrono::steady_clock::now();
    int log = 0, copied = 0;
    int rc =
        sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    if (rc == SQLITE_OK) {
      backfilled_.store(copied, std::memory_order_relaxed);
      counters_->background_checkpoints.fetch_add(1, std::memory_order_relaxed);
      counters_->background_checkpoint_latency.Record(static_cast<uint64_t>(us));
      if (us > 500'000) {
        spdlog::info("background checkpoint copied {} of {} WAL frames in {} ms", copied, log,
                     us / 1000);
      }
    } else if ((rc & 0xff) != SQLITE_BUSY) {
      spdlog::warn("background checkpoint: {}", sqlite3_errstr(rc));
    }
    // A reader still pins part of the WAL (copied < log): the next commit nudges again; pace
    // the retries so a long read does not turn this thread into a busy loop.
    if (rc != SQLITE_OK || copied < log) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    lock.lock();
  }
}

}  // namespace cistern
