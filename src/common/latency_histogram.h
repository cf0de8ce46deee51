// LatencyHistogram: a fixed-bucket (log-linear) histogram of durations in microseconds, for
// commit and request latency in /stats (and, later, /metrics). Recording is lock-free
// (relaxed atomics) so the writer thread never waits on a reader; a Snapshot taken while
// recording runs may mix old and new counts, which is fine for monitoring.
// Thread-safe: any thread may Record and Snapshot.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace cistern {

class LatencyHistogram {
 public:
  // Bucket upper bounds in microseconds: 1-2-5 steps from 10 µs to 60 s, then +Inf.
  static constexpr int kBuckets = 24;
  static const std::array<uint64_t, kBuckets>& UpperBoundsUs();

  void Record(uint64_t micros);

  struct Snapshot {
    std::array<uint64_t, kBuckets> counts{};
    uint64_t count = 0;
    uint64_t sum_us = 0;
    uint64_t max_us = 0;
    // The bucket upper bound (µs) under which fraction q of samples fall; 0 when empty.
    // Resolution is the bucket width (1-2-5 steps), which is what monitoring needs.
    uint64_t QuantileUs(double q) const;
  };
  Snapshot Take() const;

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
  std::atomic<uint64_t> max_us_{0};
};

}  // namespace cistern
