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

DirectWriter::DirectWriter(WriteMode mode, std::string path, StoreCounters* counters)
    : mode_(mode), path_(std::move(path)) {
  state_.counters = counters;
}

Result<std::unique_ptr<DirectWriter>> DirectWriter::Start(WriteMode mode, std::string path,
                                                          std::unique_ptr<sql::Db> db,
                                                          StoreCounters* counters) {
  std::unique_ptr<DirectWriter> w(new DirectWriter(mode, std::move(path), counters));
  if (Status s = LoadState(*db, &w->state_); !s.ok()) return s;
  auto insert = db->Prepare(kInsertEventSql);
  if (!insert.ok()) return insert.status();
  InstallCheckpointHook(db->handle(), &w->state_);
  w->serial_.db = std::move(db);
  w->serial_.insert = std::move(insert.value());
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
    auto db = sql::Db::Open(path_, sql::Db::Mode::kReadWrite);
    if (!db.ok()) {
      *error = db.status();
      conns_.erase(std::this_thread::get_id());
      return nullptr;
    }
    Status s = ConfigureWriter(**db);
    auto insert = s.ok() ? (*db)->Prepare(kInsertEventSql) : Result<std::unique_ptr<sql::Stmt>>(s);
    if (!insert.ok()) {
      *error = insert.status();
      conns_.erase(std::this_thread::get_id());
      return nullptr;
    }
    // No busy handler: conflicts surface at once and are retried (and counted) by us.
    sqlite3_busy_timeout((*db)->handle(), 0);
    InstallCheckpointHook((*db)->handle(), &state_);
    slot = std::make_unique<Conn>(Conn{std::move(db.value()), std::move(insert.value())});
  }
  return slot.get();
}

Status DirectWriter::Transact(const std::function<int(Conn&, Status*)>& body, int64_t events) {
  if (Status sticky = StickyError(&state_); !sticky.ok()) {
    RecordFailure(&state_, events);
    return sticky;
  }
  Status error;
  Conn* conn = Acquire(&error);
  if (!conn) {
    RecordFailure(&state_, events);
    return error;
  }
  std::unique_lock<std::mutex> serial;
  if (mode_ == WriteMode::kSerialized) serial = std::unique_lock(serial_mu_);
  sqlite3* db = conn->db->handle();
  const char* begin = mode_ == WriteMode::kSerialized ? "BEGIN IMMEDIATE" : "BEGIN";
  auto t0 = std::chrono::steady_clock::now();
  for (int attempt = 0;; ++attempt) {
    const char* step = "begin";
    Status job_status;
    int rc = sqlite3_exec(db, begin, nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) {
      step = "insert";
      rc = body(*conn, &job_status);
    }
    if (rc == SQLITE_OK && job_status.ok()) {
      step = "commit";
      rc = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
    if (rc == SQLITE_OK && job_status.ok()) break;
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    if (!job_status.ok()) {
      RecordFailure(&state_, events);
      return job_status;
    }
    if (mode_ == WriteMode::kConcurrent && IsConflict(rc) && attempt + 1 < kMaxAttempts) {
      state_.counters->commit_conflicts.fetch_add(1, std::memory_order_relaxed);
      Backoff(attempt);
      continue;
    }
    RecordFailure(&state_, events);
    return ClassifyFailure(rc, db, step, &state_);
  }
  RecordCommit(&state_, events, 1,
               static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::steady_clock::now() - t0)
                                         .count()));
  return Status::Ok();
}

void DirectWriter::Submit(EventBatch batch, AppendCallback done) {
  if (!Enter()) {
    state_.counters->admitted.fetch_sub(static_cast<int64_t>(batch.size()));
    return done(AppendResult{Status::Unavailable("shutting down"), 0, 0});
  }
  const auto n = static_cast<int64_t>(batch.size());
  // Ids are taken before the transaction and kept across its retries; a request that
  // finally fails leaves a gap, never a duplicate.
  const int64_t first = state_.next_id.fetch_add(n);
  Status s =
      Transact([&](Conn& c, Status*) { return InsertEvents(c.insert->handle(), batch, first); }, n);
  if (s.ok()) state_.devices.AddAll(batch);
  Leave();
  done(AppendResult{s, s.ok() ? first : 0, batch.size()});
}

void DirectWriter::Exec(Job job, JobCallback done) {
  if (!Enter()) return done(Status::Unavailable("shutting down"));
  Status s = Transact(
      [&](Conn& c, Status* job_status) {
        *job_status = job(*c.db);
        if (job_status->code() == Status::Code::kBusy) {
          *job_status = Status::Ok();  // a conflict like any other: retried by Transact
          return SQLITE_BUSY;
        }
        return SQLITE_OK;
      },
      0);
  Leave();
  done(s);
}

void DirectWriter::Stop() {
  std::unique_lock lock(mu_);
  if (stopping_ && !serial_.db) return;
  stopping_ = true;
  idle_cv_.wait(lock, [&] { return in_flight_ == 0; });
  conns_.clear();
  if (serial_.db) {
    FinishWriteConnection(*serial_.db, &state_);
    serial_.insert.reset();
    serial_.db.reset();
  }
}

}  // namespace cistern
