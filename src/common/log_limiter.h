// LogLimiter: at most one log line per interval for something that recurs at the client's
// pace (a client guessing tokens, a device sending bad JSON), with the count since the last
// line, so that a noisy client can never flood the log.
// Thread-safety: Tick may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/clock.h"

namespace cistern {

class LogLimiter {
 public:
  explicit LogLimiter(int64_t interval_ms = 10'000) : interval_ms_(interval_ms) {}

  // Counts one occurrence. Returns how many occurred since the last line (this one
  // included) when a line is due now, else 0: log only on a non-zero answer.
  int64_t Tick() {
    count_.fetch_add(1, std::memory_order_relaxed);
    const int64_t now = SteadyMillis();
    int64_t due = due_ms_.load(std::memory_order_relaxed);
    if (now < due || !due_ms_.compare_exchange_strong(due, now + interval_ms_)) return 0;
    const int64_t total = count_.load(std::memory_order_relaxed);
    return total - logged_.exchange(total);
  }

  int64_t interval_seconds() const { return interval_ms_ / 1000; }

 private:
  const int64_t interval_ms_;
  std::atomic<int64_t> count_{0}, logged_{0}, due_ms_{0};
};

}  // namespace cistern
