// Uploader: the background thread that drains the buffer upstream, at-least-once
// (DESIGN.md sections 2 and 6).
//
// A cycle: read up to `batch` un-uploaded events in id order through its own read-only
// connection (O(batch)); sink.Send(); on the sink's ack, checkpoint through the store's write
// path (mark uploaded, devices upsert, an upload_runs row), and only then count them
// uploaded. A failed ship writes an 'error' upload_runs row, marks nothing, and the next try
// waits an exponential backoff with jitter (capped). A crash between ship and checkpoint
// re-ships that batch: ids are stable, so sinks de-duplicate.
// Cycles run every `interval`, and back-to-back while full batches are waiting. Retention
// (delete uploaded events older than `retain_uploaded`, or any uploaded events while the file
// is over --max-db-bytes) runs between cycles, in small jobs.
//
// Thread-safety: Start/Stop from the owning thread; the ComponentStatus methods from any.
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
#include "store/store.h"
#include "uploader/backlog_reader.h"
#include "uploader/sink.h"

namespace cistern {

struct UploaderOptions {
  std::chrono::milliseconds interval{1000};
  size_t batch = 500;
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
  std::chrono::milliseconds retain_uploaded{24LL * 3600 * 1000};  // 0 = delete at once
  int64_t retention_chunk = 2000;  // events per retention job (keeps each one short)
};

class Uploader : public ComponentStatus {
 public:
  Uploader(std::shared_ptr<Store> store, std::unique_ptr<Sink> sink, UploaderOptions options);
  ~Uploader() override;

  // Opens the read connection and starts the thread.
  Status Start();
  // Drains: keeps shipping without waiting between cycles until the backlog is empty or
  // `drain_timeout` passed (a Send in progress finishes first, bounded by the sink's own
  // timeout), then stops the thread. Idempotent.
  void Stop(std::chrono::milliseconds drain_timeout);

  bool Healthy() const override;
  // Age of the oldest un-uploaded event (by its ts) as of the last backlog read (at most one
  // --upload-interval, or one backoff while failing, old); 0 when the backlog is empty.
  int64_t OldestPendingAgeMs() const;
  std::string State() const override;
  void WriteStats(JsonWriter& w) const override;
  void WriteMetrics(PrometheusWriter& w) const override;

 private:
  void Run();
  // One read-ship-checkpoint cycle. Returns true when a full batch was shipped (go again).
  bool Cycle();
  void Prune();
  // Runs a job through the store and waits for its outcome.
  Status Exec(Job job);
  // Waits up to `d` (less when stopping); returns false when the thread must exit now.
  void Sleep(std::chrono::milliseconds d);
  bool Draining() const;

  const std::shared_ptr<Store> store_;
  const std::unique_ptr<Sink> sink_;
  const UploaderOptions options_;
  std::unique_ptr<BacklogReader> reader_;  // uploader thread only
  UploadBatch batch_;                      // uploader thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                                     // guarded by mu_
  std::chrono::steady_clock::time_point drain_deadline_;  // guarded by mu_
  std::thread thread_;

  // Figures for /stats and /healthz.
  std::atomic<int64_t> runs_{0}, failures_{0}, consecutive_failures_{0};
  std::atomic<int64_t> events_shipped_{0}, duplicates_{0}, events_pruned_{0};
  std::atomic<int64_t> last_success_ms_{0}, last_failure_ms_{0}, backoff_ms_{0};
  std::atomic<double> rate_eps_{0};
  // ts (unix ms) of the oldest un-uploaded event as of the last backlog read; 0 = none.
  std::atomic<int64_t> oldest_pending_ts_{0};
  std::string last_error_;  // guarded by mu_
};

}  // namespace cistern
