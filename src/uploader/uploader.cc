#include "uploader/uploader.h"

#include <spdlog/spdlog.h>

#include <future>
#include <optional>

#include "common/clock.h"
#include "common/thread_name.h"
#include "uploader/backoff.h"

namespace cistern {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

Uploader::Uploader(std::shared_ptr<Store> store, std::unique_ptr<Sink> sink,
                   UploaderOptions options)
    : store_(std::move(store)),
      sink_(std::move(sink)),
      sink_name_(sink_->name()),
      options_(options) {}

Uploader::~Uploader() { Stop(std::chrono::milliseconds(0)); }

Status Uploader::Start() {
  auto reader = store_->OpenBacklogReader();
  if (!reader.ok()) return reader.status();
  reader_ = std::move(reader.value());
  batch_.node_id = store_->node_id();
  thread_ = std::thread([this] { Run(); });
  spdlog::info("uploader started: sink={} batch={} interval={}ms", sink_->name(), options_.batch,
               options_.interval.count());
  return Status::Ok();
}

void Uploader::Stop(std::chrono::milliseconds drain_timeout) {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
    drain_deadline_ = Clock::now() + drain_timeout;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // The read connection closes now, so the store's final checkpoint can fold the whole WAL
  // and remove the -wal and -shm files.
  reader_.reset();
}

void Uploader::SetOptions(const UploaderOptions& options) {
  {
    std::lock_guard lock(mu_);
    options_ = options;
    options_generation_++;
  }
  cv_.notify_all();
}

UploaderOptions Uploader::options() const {
  std::lock_guard lock(mu_);
  return options_;
}

void Uploader::SetSink(std::unique_ptr<Sink> sink) {
  {
    std::lock_guard lock(mu_);
    next_sink_ = std::move(sink);  // ends a wait in progress (Sleep)
  }
  cv_.notify_all();
}

std::string Uploader::sink_name() const {
  std::lock_guard lock(mu_);
  return sink_name_;
}

bool Uploader::TakeNewSink() {
  std::unique_ptr<Sink> next;
  {
    std::lock_guard lock(mu_);
    if (!next_sink_) return false;
    next = std::move(next_sink_);
  }
  const std::string old_name = sink_->name();
  // The old sink goes first (its connections close), so that a new sink to the same upstream
  // (e.g. an MQTT broker, same client id) never meets the old session there.
  sink_.reset();
  sink_ = std::move(next);
  {
    std::lock_guard lock(mu_);
    sink_name_ = sink_->name();
  }
  consecutive_failures_ = 0;
  backoff_ms_ = 0;
  retry_after_ = std::chrono::milliseconds(0);
  spdlog::info("uploader: sink now {} (was {}); shipping resumes after id {}", sink_->name(),
               old_name, store_->Stats().upload_cursor);
  return true;
}

bool Uploader::Draining() const {
  std::lock_guard lock(mu_);
  return stop_;
}

void Uploader::Sleep(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  auto until = Clock::now() + d;
  const bool was_stopping = stop_;
  const int64_t generation = options_generation_;
  if (stop_) until = std::min(until, drain_deadline_);
  // A stop request ends an interval wait at once (the drain starts); while draining, waits
  // never pass the drain deadline. New options or a new sink (a reload) end it too; a sink
  // passed before the wait began as well.
  cv_.wait_until(lock, until, [&] {
    return stop_ != was_stopping || options_generation_ != generation || next_sink_ != nullptr;
  });
}

void Uploader::NoteError(std::string error) {
  failures_++;
  consecutive_failures_++;
  last_failure_ms_ = UnixMillis();
  std::lock_guard lock(mu_);
  last_error_ = std::move(error);
}

void Uploader::Run() {
  SetThreadName("cistern-upload");
  UploaderOptions opts = options();
  auto seed = [] { return static_cast<uint64_t>(Clock::now().time_since_epoch().count()); };
  std::optional<Backoff> backoff;  // rebuilt when a reload changes its bounds
  backoff.emplace(opts.initial_backoff, opts.max_backoff, seed());
  auto window_start = Clock::now();
  int64_t window_events = events_shipped_.load();
  for (;;) {
    // Options in effect for this cycle (a reload replaces them between cycles).
    if (UploaderOptions now = options(); now.interval != opts.interval || now.batch != opts.batch ||
                                         now.max_backoff != opts.max_backoff ||
                                         now.initial_backoff != opts.initial_backoff) {
      if (now.max_backoff != opts.max_backoff || now.initial_backoff != opts.initial_backoff) {
        backoff.emplace(now.initial_backoff, now.max_backoff, seed());
      }
      spdlog::info("uploader: now batch={} interval={}ms max-backoff={}ms", now.batch,
                   now.interval.count(), now.max_backoff.count());
      opts = now;
    }
    if (TakeNewSink()) backoff->Reset();
    batch_limit_ = opts.batch;
    const bool draining = Draining();
    if (draining) {
      std::lock_guard lock(mu_);
      if (Clock::now() >= drain_deadline_) break;
    }
    CycleOutcome outcome = Cycle();
    auto now = Clock::now();
    if (now - window_start >= std::chrono::seconds(5)) {
      double secs = std::chrono::duration<double>(now - window_start).count();
      rate_eps_ = static_cast<double>(events_shipped_.load() - window_events) / secs;
      window_start = now;
      window_events = events_shipped_.load();
    }
    if (outcome == CycleOutcome::kSinkFailed || outcome == CycleOutcome::kStoreFailed) {
      if (draining && outcome == CycleOutcome::kStoreFailed && !store_->Health().ok()) break;
      auto delay = backoff->Next();
      // An upstream's Retry-After is honoured, within the backoff cap.
      if (outcome == CycleOutcome::kSinkFailed) {
        delay = std::max(delay, std::min(retry_after_, opts.max_backoff));
      }
      backoff_ms_ = delay.count();
      Sleep(delay);
      continue;
    }
    backoff->Reset();
    backoff_ms_ = 0;
    if (outcome == CycleOutcome::kShippedFull) continue;
    if (draining && outcome == CycleOutcome::kIdle) break;  // drained
    if (!draining) Sleep(opts.interval);
  }
  spdlog::info("uploader stopped: {} events shipped, backlog {}", events_shipped_.load(),
               store_->backlog());
}

bool Uploader::Mark() {
  Status s = store_->MarkUploaded(batch_, shipped_at_);
  if (!s.ok()) {
    // Shipped but not recorded: the next cycles retry the bookkeeping alone; a crash before
    // it succeeds ships the batch again (at-least-once).
    NoteError("recording a shipped batch: " + s.message());
    spdlog::warn("uploader: {}", s.message());
    return false;
  }
  unmarked_ = false;
  events_shipped_ += static_cast<int64_t>(batch_.size());
  last_success_ms_ = UnixMillis();
  if (consecutive_failures_.exchange(0) > 0) {
    spdlog::info("uploader: sink {} recovered", sink_->name());
  }
  return true;
}

Uploader::CycleOutcome Uploader::Cycle() {
  // A store that failed for good can record nothing: shipping would only repeat the same
  // batch upstream every backoff until a restart.
  if (Status health = store_->Health(); !health.ok()) {
    if (!store_failed_.exchange(true)) {
      spdlog::error("uploader: not shipping while the store has failed: {}", health.message());
    }
    NoteError("store failed: " + health.message());
    return CycleOutcome::kStoreFailed;
  }
  store_failed_ = false;
  if (unmarked_) {
    if (!Mark()) return CycleOutcome::kStoreFailed;
    return batch_.size() == batch_limit_ ? CycleOutcome::kShippedFull : CycleOutcome::kShipped;
  }
  if (Status s = reader_->Read(batch_limit_, &batch_); !s.ok()) {
    spdlog::error("uploader: reading the backlog: {}", s.message());
    NoteError("reading the backlog: " + s.message());
    return CycleOutcome::kStoreFailed;
  }
  oldest_pending_ts_ = batch_.empty() ? 0 : batch_.events[0].ts;
  if (batch_.empty()) return CycleOutcome::kIdle;
  shipped_at_ = UnixMillis();
  runs_++;
  SendResult r = sink_->Send(batch_);
  retry_after_ = r.retry_after;
  if (!r.ok()) {
    if (consecutive_failures_.load() == 0) {
      spdlog::warn("uploader: sink {} failing: {}", sink_->name(), r.error);
    }
    NoteError(r.error);
    Status s = store_->RecordFailedRun(shipped_at_, static_cast<int64_t>(batch_.size()), r.error);
    if (!s.ok()) spdlog::warn("uploader: recording a failed run: {}", s.message());
    return CycleOutcome::kSinkFailed;
  }
  duplicates_ += r.duplicates;
  rejected_upstream_ += r.rejected;
  unmarked_ = true;
  if (!Mark()) return CycleOutcome::kStoreFailed;
  return batch_.size() == batch_limit_ ? CycleOutcome::kShippedFull : CycleOutcome::kShipped;
}

int64_t Uploader::OldestPendingAgeMs() const {
  const int64_t ts = oldest_pending_ts_.load();
  if (ts == 0 || store_->backlog() == 0) return 0;
  return std::max<int64_t>(0, UnixMillis() - ts);
}

bool Uploader::Healthy() const { return consecutive_failures_.load() == 0; }

std::string Uploader::State() const {
  if (store_failed_.load()) return "store failed";
  return Healthy() ? "ok" : "failing";
}

void Uploader::WriteStats(JsonWriter& w) const {
  w.BeginObject();
  w.Key("configured");
  w.Bool(true);
  w.Key("sink");
  w.String(sink_name());
  w.Key("healthy");
  w.Bool(Healthy());
  w.Key("runs");
  w.Int(runs_.load());
  w.Key("failures");
  w.Int(failures_.load());
  w.Key("consecutive_failures");
  w.Int(consecutive_failures_.load());
  {
    std::lock_guard lock(mu_);
    w.Key("last_error");
    if (last_error_.empty())
      w.Null();
    else
      w.String(last_error_);
  }
  w.Key("last_success_at");
  w.Int(last_success_ms_.load());
  w.Key("last_failure_at");
  w.Int(last_failure_ms_.load());
  w.Key("events_uploaded");
  w.Int(events_shipped_.load());
  w.Key("duplicates_reported");
  w.Int(duplicates_.load());
  w.Key("rejected_upstream");  // OTLP partial_success rejections (docs/otlp.md)
  w.Int(rejected_upstream_.load());
  w.Key("upload_rate_eps");
  w.Double(rate_eps_.load());
  w.Key("backoff_ms");
  w.Int(backoff_ms_.load());
  w.Key("oldest_pending_age_ms");
  w.Int(OldestPendingAgeMs());
  w.EndObject();
}

void Uploader::WriteMetrics(PrometheusWriter& w) const {
  const std::string sink = sink_name();
  w.Family("cistern_uploader_healthy", "gauge",
           "1 while the uploader ships, 0 while its sink is failing");
  w.Sample("cistern_uploader_healthy", int64_t{Healthy() ? 1 : 0}, {{"sink", sink}});
  w.Counter("cistern_upload_runs_total", "Upload cycles that shipped a batch or tried to",
            runs_.load());
  w.Counter("cistern_upload_failures_total",
            "Failed upload cycles (sink error, backlog read or checkpoint failure)",
            failures_.load());
  w.Gauge("cistern_upload_consecutive_failures", "Failed upload cycles since the last success",
          static_cast<double>(consecutive_failures_.load()));
  w.Counter("cistern_upload_duplicates_total",
            "Events the sink reported as duplicates (JetStream de-duplication)",
            duplicates_.load());
  w.Counter("cistern_upload_rejected_upstream_total",
            "Events the upstream accepted the request for but rejected (OTLP partial_success)",
            rejected_upstream_.load());
  w.Gauge("cistern_upload_last_success_timestamp_seconds",
          "Unix time of the last successful upload cycle (0 = none yet)",
          static_cast<double>(last_success_ms_.load()) / 1000.0);
  w.Gauge("cistern_upload_backoff_seconds", "Current wait before the next try (0 = not failing)",
          static_cast<double>(backoff_ms_.load()) / 1000.0);
  w.Gauge("cistern_oldest_pending_age_seconds",
          "Age (by its ts) of the oldest event not yet uploaded, as of the last backlog read",
          static_cast<double>(OldestPendingAgeMs()) / 1000.0);
}

}  // namespace cistern
