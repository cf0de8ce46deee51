// Uploader: the background thread that drains the buffer upstream, at-least-once
// (docs/delivery.md).
//
// A cycle: read up to `batch` pending events in id order (the store's BacklogReader,
// O(batch)); sink.Send(); on the sink's ack, Store::MarkUploaded (the cursor moves, a run is
// recorded; the store updates its own figures). A failed ship is recorded with
// Store::RecordFailedRun, marks nothing, and the next try waits an exponential backoff with
// jitter (capped). A batch shipped but not yet marked (the store refused the bookkeeping for
// now, e.g. disk full) is not shipped again: the next cycles retry only the marking. While
// the store has failed for good (its sticky error), nothing is shipped at all: nothing shipped
// could be recorded, so every cycle would only duplicate upstream. A crash between ship and
// mark re-ships that batch: ids are stable, so sinks de-duplicate.
// Cycles run every `interval`, and back-to-back while full batches are waiting. Retention is
// the store's (Store owns the lifecycle).
//
// A reload may replace the sink (SetSink, docs/configuration.md "Reload"): the batch in flight
// finishes on the old sink (shipped and marked, or failed and left unmarked), the old sink is
// destroyed on the uploader thread (its connections close), and the next cycle reads from the
// store's upload cursor and ships through the new one: nothing is skipped, and a batch the old
// sink failed goes again through the new one (at-least-once). A batch the old sink acknowledged
// but the store has not recorded yet is not shipped again: only its marking is retried.
//
// Thread-safety: Start/Stop from the owning thread; SetOptions, SetSink and the ComponentStatus
// methods from any. SetOptions and SetSink (a config reload) take effect at the next cycle: a
// batch in flight finishes with the options and sink it started with, and a wait in progress
// (interval or backoff) ends early.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/component_status.h"
#include "common/status.h"
#include "sinks/api/sink.h"
#include "store/store.h"

namespace cistern {

struct UploaderOptions {
  std::chrono::milliseconds interval{1000};
  size_t batch = 500;
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
};

class Uploader : public ComponentStatus {
 public:
  Uploader(std::shared_ptr<Store> store, std::unique_ptr<Sink> sink, UploaderOptions options);
  ~Uploader() override;

  // Opens the backlog reader and starts the thread.
  Status Start();
  // Drains: keeps shipping without waiting between cycles until the backlog is empty or
  // `drain_timeout` passed (a Send in progress finishes first, bounded by the sink's own
  // timeout), then stops the thread and closes the reader. Idempotent.
  void Stop(std::chrono::milliseconds drain_timeout);
  // Replaces interval, batch and backoff for the following cycles.
  void SetOptions(const UploaderOptions& options);
  UploaderOptions options() const;
  // Replaces the sink from the next cycle (see above); the backoff and the failure streak
  // start afresh with it. REQUIRES: sink != nullptr.
  void SetSink(std::unique_ptr<Sink> sink);
  // The name of the sink in effect ("webhook"); a sink passed to SetSink counts from the
  // cycle that first uses it.
  std::string sink_name() const;

  bool Healthy() const override;
  // Age of the oldest un-uploaded event (by its ts) as of the last backlog read (at most one
  // --upload-interval, or one backoff while failing, old); 0 when the backlog is empty.
  int64_t OldestPendingAgeMs() const;
  std::string State() const override;
  void WriteStats(JsonWriter& w) const override;
  void WriteMetrics(PrometheusWriter& w) const override;

 private:
  enum class CycleOutcome {
    kIdle,         // nothing pending
    kShipped,      // a batch shipped and recorded; more may come after the interval
    kShippedFull,  // a full batch: go again at once
    kSinkFailed,   // the sink refused or failed: back off
    kStoreFailed,  // reading or recording failed (the batch stays unmarked): back off
  };

  void Run();
  CycleOutcome Cycle();
  // Records the shipped batch with the store; false (and the error noted) when it could not.
  bool Mark();
  void NoteError(std::string error);
  // Uploader thread: switches to a sink passed to SetSink, if any. True when it did.
  bool TakeNewSink();
  // Waits up to `d` (less when stopping).
  void Sleep(std::chrono::milliseconds d);
  bool Draining() const;

  const std::shared_ptr<Store> store_;
  std::unique_ptr<Sink> sink_;                // uploader thread only once started
  std::unique_ptr<Sink> next_sink_;           // guarded by mu_; from SetSink
  std::string sink_name_;                     // guarded by mu_; sink_->name()
  UploaderOptions options_;                   // guarded by mu_
  int64_t options_generation_ = 0;            // guarded by mu_; bumped by SetOptions
  size_t batch_limit_ = 0;                    // uploader thread only: options_.batch this cycle
  std::unique_ptr<BacklogReader> reader_;     // uploader thread only
  UploadBatch batch_;                         // uploader thread only
  bool unmarked_ = false;                     // batch_ was shipped but not recorded yet
  std::chrono::milliseconds retry_after_{0};  // the last failed Send()'s Retry-After
  int64_t shipped_at_ = 0;                    // when batch_'s ship started (unix ms)

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                                     // guarded by mu_
  std::chrono::steady_clock::time_point drain_deadline_;  // guarded by mu_
  std::thread thread_;

  // Figures for /stats and /healthz.
  std::atomic<int64_t> runs_{0}, failures_{0}, consecutive_failures_{0};
  std::atomic<int64_t> events_shipped_{0}, duplicates_{0}, rejected_upstream_{0};
  std::atomic<int64_t> last_success_ms_{0}, last_failure_ms_{0}, backoff_ms_{0};
  std::atomic<bool> store_failed_{false};
  std::atomic<double> rate_eps_{0};
  // ts (unix ms) of the oldest un-uploaded event as of the last backlog read; 0 = none.
  std::atomic<int64_t> oldest_pending_ts_{0};
  std::string last_error_;  // guarded by mu_
};

}  // namespace cistern
