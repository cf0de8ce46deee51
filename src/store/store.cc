#include "store/store.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <future>

#include "common/clock.h"
#include "common/duration.h"
#include "common/thread_name.h"
#include "store/direct_writer.h"
#include "store/file_lock.h"
#include "store/lifecycle.h"
#include "store/schema.h"

namespace cistern {
namespace {

// The directory the database goes in must exist (Cistern creates the file, not the path).
Status CheckDirectory(const std::string& db_path) {
  const std::filesystem::path dir = std::filesystem::path(db_path).parent_path();
  if (dir.empty()) return Status::Ok();
  std::error_code ec;
  const auto st = std::filesystem::status(dir, ec);
  if (st.type() == std::filesystem::file_type::not_found) {
    return Status::IoError("directory " + dir.string() +
                           " does not exist (create it, or choose another path)");
  }
  if (!ec && !std::filesystem::is_directory(st)) {
    return Status::IoError(dir.string() + " is not a directory");
  }
  return Status::Ok();  // other errors (permissions) are named by the open that meets them
}

int64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

BufferLimits LimitsOf(const StoreOptions& o) {
  BufferLimits l;
  l.max_backlog = o.max_backlog;
  l.max_db_bytes = static_cast<int64_t>(o.max_db_bytes);
  l.schema_bytes = MinDbBytes(o.indexed) - 8 * 4096;
  l.on_full = o.on_full;
  return l;
}

}  // namespace

Store::Store(StoreOptions options, BufferLimits limits)
    : options_(std::move(options)), policy_(limits) {
  state_.counters = &counters_;
  state_.buffer = &buffer_;
  state_.policy = &policy_;
  retain_uploaded_ms_ = options_.retain_uploaded.count();
}

void Store::SetBufferLimits(int64_t max_backlog, int64_t max_db_bytes, OnFull on_full,
                            std::chrono::milliseconds retain_uploaded) {
  BufferLimits l = policy_.limits();
  l.max_backlog = max_backlog;
  l.max_db_bytes = max_db_bytes;
  l.on_full = on_full;
  policy_.SetLimits(l);
  retain_uploaded_ms_ = retain_uploaded.count();
}

Store::~Store() { Close(); }

Result<std::shared_ptr<Store>> Store::Open(const StoreOptions& options) {
  if (options.max_db_bytes > 0 &&
      static_cast<int64_t>(options.max_db_bytes) < MinDbBytes(options.indexed)) {
    return Status::InvalidArgument("--max-db-bytes " + FormatSize(options.max_db_bytes) +
                                   " is too small for the schema (at least " +
                                   FormatSize(MinDbBytes(options.indexed)) + ")");
  }
  // A missing directory is named as such: the lock file, opened first, would take the blame.
  if (Status s = CheckDirectory(options.path); !s.ok()) return s;
  std::shared_ptr<Store> store(new Store(options, LimitsOf(options)));
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
  auto lifecycle = Lifecycle::Prepare(**db);
  if (!lifecycle.ok()) return lifecycle.status();
  {
    std::lock_guard txn(store->buffer_.txn_mu);
    if (Status s = (*lifecycle)->Load(&store->buffer_, &store->counters_); !s.ok()) return s;
  }
  store->state_.loaded = true;
  auto checkpointer = Checkpointer::Start(options.path, &store->counters_);
  if (!checkpointer.ok()) return checkpointer.status();
  store->checkpointer_ = std::move(checkpointer.value());
  store->state_.checkpointer = store->checkpointer_.get();
  if (options.checkpoint_catchup_frames >= 0) {
    store->state_.catchup_frames = options.checkpoint_catchup_frames;
  }

  if (options.mode == WriteMode::kGroup) {
    auto writer = Writer::Start(std::move(db.value()), std::move(lifecycle.value()), &store->state_,
                                options.writer);
    if (!writer.ok()) return writer.status();
    store->writer_ = std::move(writer.value());
  } else {
    auto writer = DirectWriter::Start(options.mode, options.path, std::move(db.value()),
                                      std::move(lifecycle.value()), &store->state_);
    if (!writer.ok()) return writer.status();
    store->writer_ = std::move(writer.value());
  }
  store->maintenance_ = std::thread([p = store.get()] { p->MaintenanceLoop(); });
  store->opened_ = true;
  spdlog::info("store {} open: mode={} node_id={} events={} backlog={} devices={}{}", options.path,
               WriteModeName(options.mode), store->node_id_, store->counters_.events_written.load(),
               store->counters_.backlog.load(), store->counters_.devices_seen.load(),
               store->indexed_ ? " indexed" : "");
  return store;
}

void Store::Append(EventBatch batch, AppendCallback done) {
  Append(std::move(batch), AppendExtras{}, std::move(done));
}

void Store::Append(EventBatch batch, AppendExtras extras, AppendCallback done) {
  const auto n = static_cast<int64_t>(batch.size());
  int64_t bytes = BufferPolicy::EstimateBytes(batch);
  for (const DeadLetter& d : extras.dead_letters) {
    bytes += BufferPolicy::EstimateBytes(d.source.size() + d.reason.size(), d.origin.size(),
                                         d.body.size());
  }
  if (Status s = policy_.Admit(n, bytes, counters_); !s.ok()) {
    done(AppendResult{s, 0, 0});
    return;
  }
  writer_->Submit(std::move(batch), std::move(extras), bytes, std::move(done));
}

void Store::OpenMqttSession(std::string client_id, bool clean, int64_t expiry_ms, OpCallback done) {
  writer_->Run(OpenSessionOp{std::move(client_id), clean, expiry_ms}, std::move(done));
}

void Store::CloseMqttSession(std::string client_id, int64_t expiry_ms, OpCallback done) {
  writer_->Run(CloseSessionOp{std::move(client_id), expiry_ms}, std::move(done));
}

void Store::ReleaseQos2(std::string client_id, uint16_t packet_id, OpCallback done) {
  writer_->Run(ReleaseQos2Op{std::move(client_id), packet_id}, std::move(done));
}

Result<std::unique_ptr<BacklogReader>> Store::OpenBacklogReader() {
  return BacklogReader::Open(options_.path, &buffer_.cursor);
}

OpResult Store::RunOp(LifecycleOp op) {
  std::promise<OpResult> done;
  auto result = done.get_future();
  writer_->Run(std::move(op), [&done](const OpResult& r) { done.set_value(r); });
  return result.get();
}

Status Store::MarkUploaded(const UploadBatch& batch, int64_t started_ms) {
  return RunOp(MarkUploadedOp{&batch, started_ms, UnixMillis()}).status;
}

Status Store::RecordFailedRun(int64_t started_ms, int64_t events, std::string error) {
  return RunOp(FailedRunOp{started_ms, UnixMillis(), events, std::move(error)}).status;
}

Status Store::UpdatePayloads(std::vector<std::pair<int64_t, std::string>> updates) {
  return RunOp(UpdatePayloadsOp{std::move(updates)}).status;
}

void Store::MaintenanceLoop() {
  SetThreadName("cistern-retain");
  std::unique_lock lock(maintenance_mu_);
  for (;;) {
    maintenance_cv_.wait_for(lock, options_.maintenance_interval, [&] { return closing_; });
    if (closing_) return;
    lock.unlock();
    // One chunk per transaction, so ingest interleaves between them.
    for (int i = 0; i < 50; ++i) {
      OpResult r =
          RunOp(RetainOp{UnixMillis() - retain_uploaded_ms_.load(), options_.retention_chunk});
      if (!r.status.ok()) {
        spdlog::warn("retention: {}", r.status.message());
        break;
      }
      if (!r.more) break;
    }
    lock.lock();
  }
}

Status Store::Health() const { return StickyError(&state_); }

bool Store::Accepting() const { return Health().ok() && policy_.Accepting(counters_); }

StoreStats Store::Stats() const {
  StoreStats s;
  s.mode = WriteModeName(options_.mode);
  s.indexed = indexed_;
  s.node_id = node_id_;
  s.path = options_.path;
  s.events_written = counters_.events_written.load();
  s.events_written_session = counters_.events_written_session.load();
  s.backlog = counters_.backlog.load();
  const BufferLimits limits = policy_.limits();
  s.max_backlog = limits.max_backlog;
  s.upload_cursor = buffer_.cursor.load();
  s.devices_seen = counters_.devices_seen.load();
  s.events_uploaded = counters_.events_uploaded.load();
  s.events_dropped = counters_.events_dropped.load();
  s.events_pruned = counters_.events_pruned.load();
  s.dead_letters = counters_.dead_letters.load();
  s.on_full = policy_.on_full_name();
  s.max_db_bytes = limits.max_db_bytes;
  s.used_bytes = counters_.used_bytes.load();
  s.commits = counters_.commits.load();
  s.commit_failures = counters_.commit_failures.load();
  s.requests_committed = counters_.requests_committed.load();
  s.commit_conflicts = counters_.commit_conflicts.load();
  s.checkpoints = counters_.checkpoints.load();
  s.checkpoints_deferred = counters_.checkpoints_deferred.load();
  s.inline_checkpoint_max_frames = counters_.inline_checkpoint_max_frames.load();
  s.background_checkpoints = counters_.background_checkpoints.load();
  s.background_checkpoint_latency = counters_.background_checkpoint_latency.Take();
  s.wal_frames = counters_.wal_frames.load();
  s.queue_depth = writer_ ? static_cast<int64_t>(writer_->QueueDepth()) : 0;
  s.db_bytes = FileSize(options_.path) + FileSize(options_.path + "-wal");
  s.commit_latency = counters_.commit_latency.Take();
  s.commit_begin_latency = counters_.commit_begin_latency.Take();
  s.commit_store_latency = counters_.commit_store_latency.Take();
  s.commit_sync_latency = counters_.commit_sync_latency.Take();
  s.checkpoint_latency = counters_.checkpoint_latency.Take();
  return s;
}

void Store::Close() {
  {
    std::lock_guard lock(maintenance_mu_);
    closing_ = true;
  }
  maintenance_cv_.notify_all();
  if (maintenance_.joinable()) maintenance_.join();
  if (writer_) writer_->Stop();
  // After the writer (whose hook nudges it), before the lock goes: the writer's final
  // TRUNCATE checkpoint ran on the last-but-one connection; closing this one lets SQLite
  // remove -wal and -shm.
  if (checkpointer_) checkpointer_->Stop();
  // Only a store that opened says it closed: a failed start-up reports its error alone.
  if (lock_ && opened_) {
    spdlog::info("store {} closed: events={} backlog={}", options_.path,
                 counters_.events_written.load(), counters_.backlog.load());
  }
  lock_.reset();
}

}  // namespace cistern
