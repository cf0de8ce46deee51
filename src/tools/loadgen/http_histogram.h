// FineHistogram: a log-linear (HdrHistogram-style) histogram of latencies in microseconds
// for the HTTP load report. Values below 256 µs are exact; above, each power of two is split
// into 128 buckets, so a reported quantile is within 1% of the true sample (the collector's
// LatencyHistogram has 1-2-5 buckets, too coarse to compare p99s between runs). Memory grows
// with the largest value seen: about 1 KiB per power of two.
// Not thread-safe: one owner (the load's io thread); Merge to combine owners.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cistern::loadgen {

class FineHistogram {
 public:
  void Record(uint64_t micros);
  void Merge(const FineHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t max_us() const { return max_us_; }
  // The smallest value v (the upper edge of its bucket, never above the largest sample)
  // such that at least fraction q of the samples are <= v. 0 when empty. q in [0, 1].
  uint64_t QuantileUs(double q) const;

 private:
  static std::size_t IndexOf(uint64_t v);
  static uint64_t HighestInBucket(std::size_t index);

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t max_us_ = 0;
};

}  // namespace cistern::loadgen
