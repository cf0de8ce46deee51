#include "common/latency_histogram.h"

#include <algorithm>
#include <limits>

namespace cistern {

const std::array<uint64_t, LatencyHistogram::kBuckets>& LatencyHistogram::UpperBoundsUs() {
  static const std::array<uint64_t, kBuckets> kBounds = {
      10,         20,         50,         100,
      200,        500,        1'000,      2'000,
      5'000,      10'000,     20'000,     50'000,
      100'000,    200'000,    500'000,    1'000'000,
      2'000'000,  5'000'000,  10'000'000, 20'000'000,
      30'000'000, 45'000'000, 60'000'000, std::numeric_limits<uint64_t>::max()};
  return kBounds;
}

void LatencyHistogram::Record(uint64_t micros) {
  const auto& bounds = UpperBoundsUs();
  auto it = std::lower_bound(bounds.begin(), bounds.end(), micros);
  counts_[it - bounds.begin()].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(micros, std::memory_order_relaxed);
  uint64_t prev = max_us_.load(std::memory_order_relaxed);
  while (micros > prev && !max_us_.compare_exchange_weak(prev, micros, std::memory_order_relaxed)) {
  }
}

LatencyHistogram::Snapshot LatencyHistogram::Take() const {
  Snapshot s;
  for (int i = 0; i < kBuckets; ++i) s.counts[i] = counts_[i].load(std::memory_order_relaxed);
  s.count = count_.load(std::memory_order_relaxed);
  s.sum_us = sum_us_.load(std::memory_order_relaxed);
  s.max_us = max_us_.load(std::memory_order_relaxed);
  return s;
}

uint64_t LatencyHistogram::Snapshot::QuantileUs(double q) const {
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  if (total == 0) return 0;
  auto rank = static_cast<uint64_t>(q * static_cast<double>(total));
  if (rank >= total) rank = total - 1;
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts[i];
    if (seen > rank) return std::min(UpperBoundsUs()[i], max_us);
  }
  return max_us;
}

}  // namespace cistern
