#include "store/store.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "store/direct_writer.h"
#include "store/file_lock.h"
#include "store/schema.h"

namespace cistern {
namespace {

int64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

}  // namespace

Store::Store(StoreOptions options) : options_(std::move(options)) {}

Store::~Store() { Close(); }

Result<std::shared_ptr<Store>> Store::Open(const StoreOptions& options) {
  std::shared_ptr<Store> store(new Store(options));
  // The lock comes first: a second collector must not even run migrations.
  auto lock = FileLock::Acquire(options.path + ".lock");
  if (!lock.ok()) return lock.status();
  store->lock_ = std::move(lock.value());

  auto db = sql::Db::Open(options.path, sql::Db::Mode::kReadWrite);
  if (!db.ok()) return db.status();
  if (Status s = ConfigureWriter(**db); !s.ok()) return s;
  if (Status s = Migrate(**db, options.indexed); !s.ok()) return s;
  auto node = ReadNodeId(**db);
  if (!node.ok()) return node.status();
  store->node_id_ = *node;
  auto indexed = HasDeviceIndex(**db);
  if (!indexed.ok()) return indexed.status();
  store->indexed_ = *indexed;

  if (options.mode == WriteMode::kGroup) {
    WriterLimits limits = options.writer;
    limits.drop_oldest = options.on_full == OnFull::kDropOldest;
    limits.max_backlog = options.max_backlog;
    limits.max_db_bytes = static_cast<int64_t>(options.max_db_bytes);
    auto writer = Writer::Start(std::move(db.value()), limits, &store->counters_);
    if (!writer.ok()) return writer.status();
    store->writer_ = std::move(writer.value());
  } else {
    auto writer =
        DirectWriter::Start(options.mode, options.path, std::move(db.value()), &store->counters_);
    if (!writer.ok()) return writer.status();
    store->writer_ = std::move(writer.value());
  }
  spdlog::info("store {} open: mode={} node_id={} events={} backlog={} devices={}{}", options.path,
               WriteModeName(options.mode), store->node_id_, store->counters_.events_written.load(),
               store->counters_.backlog.load(), store->counters_.devices_seen.load(),
               store->indexed_ ? " indexed" : "");
  return store;
}

void Store::Append(EventBatch batch, AppendCallback done) {
  const auto n = static_cast<int64_t>(batch.size());
  const int64_t max = options_.max_backlog;
  if (max > 0 && n > max) {
    done(AppendResult{Status::TooLarge("batch of " + std::to_string(n) +
                                       " events is larger than the buffer (--max-backlog " +
                                       std::to_string(max) + ")"),
                      0, 0});
    return;
  }
  const bool evict = options_.on_full == OnFull::kDropOldest && options_.mode == WriteMode::kGroup;
  if (!evict && options_.max_db_bytes > 0 &&
      counters_.used_bytes.load(std::memory_order_relaxed) >=
          static_cast<int64_t>(options_.max_db_bytes)) {
    done(AppendResult{Status::BufferFull("database full (--max-db-bytes)"), 0, 0});
    return;
  }
  if (max > 0 && !evict) {
    int64_t cur = counters_.admitted.load();
    do {
      if (cur + n > max) {
        done(AppendResult{Status::BufferFull("buffer full"), 0, 0});
        return;
      }
    } while (!counters_.admitted.compare_exchange_weak(cur, cur + n));
  } else {
    counters_.admitted.fetch_add(n);
  }
  writer_->Submit(std::move(batch), std::move(done));
}

void Store::OnUploaded(int64_t n) {
  counters_.backlog.fetch_sub(n);
  counters_.admitted.fetch_sub(n);
  counters_.events_uploaded.fetch_add(n);
}

void Store::OnPruned(int64_t n) { counters_.events_pruned.fetch_add(n); }

void Store::Exec(Job job, JobCallback done) { writer_->Exec(std::move(job), std::move(done)); }

StoreStats Store::Stats() const {
  StoreStats s;
  s.mode = WriteModeName(options_.mode);
  s.indexed = indexed_;
  s.node_id = node_id_;
  s.path = options_.path;
  s.events_written = counters_.events_written.load();
  s.events_written_session = counters_.events_written_session.load();
  s.backlog = counters_.backlog.load();
  s.max_backlog = options_.max_backlog;
  s.devices_seen = counters_.devices_seen.load();
  s.events_uploaded = counters_.events_uploaded.load();
  s.events_dropped = counters_.events_dropped.load();
  s.events_pruned = counters_.events_pruned.load();
  s.on_full = options_.on_full == OnFull::kReject ? "reject" : "drop-oldest";
  s.max_db_bytes = static_cast<int64_t>(options_.max_db_bytes);
  s.used_bytes = counters_.used_bytes.load();
  s.commits = counters_.commits.load();
  s.commit_failures = counters_.commit_failures.load();
  s.requests_committed = counters_.requests_committed.load();
  s.commit_conflicts = counters_.commit_conflicts.load();
  s.checkpoints = counters_.checkpoints.load();
  s.wal_frames = counters_.wal_frames.load();
  s.queue_depth = writer_ ? static_cast<int64_t>(writer_->QueueDepth()) : 0;
  s.db_bytes = FileSize(options_.path) + FileSize(options_.path + "-wal");
  s.commit_latency = counters_.commit_latency.Take();
  s.checkpoint_latency = counters_.checkpoint_latency.Take();
  return s;
}

void Store::Close() {
  if (writer_) writer_->Stop();
  if (lock_) {
    spdlog::info("store {} closed: events={} backlog={}", options_.path,
                 counters_.events_written.load(), counters_.backlog.load());
  }
  lock_.reset();
}

}  // namespace cistern
