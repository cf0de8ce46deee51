#include "tools/loadgen/http_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace cistern::loadgen {

namespace {
constexpr int kSubBits = 7;  // 128 buckets per power of two
constexpr uint64_t kSubCount = uint64_t{1} << kSubBits;
constexpr uint64_t kExactBelow = kSubCount * 2;  // 0..255 get a bucket each
}  // namespace

// v < 256 -> v. Otherwise shift v right until it lies in [128, 256); the shift picks the
// power of two, the remaining 7 bits the bucket inside it. Indexes are contiguous.
size_t FineHistogram::IndexOf(uint64_t v) {
  if (v < kExactBelow) return static_cast<size_t>(v);
  int msb = 63 - std::countl_zero(v);
  int shift = msb - kSubBits;
  return static_cast<size_t>(shift) * kSubCount + (v >> shift);
}

uint64_t FineHistogram::HighestInBucket(size_t index) {
  if (index < kExactBelow) return index;
  uint64_t shift = index / kSubCount - 1;
  uint64_t sub = index % kSubCount + kSubCount;
  return ((sub + 1) << shift) - 1;
}

void FineHistogram::Record(uint64_t micros) {
  size_t i = IndexOf(micros);
  if (i >= counts_.size()) counts_.resize(i + 1, 0);
  ++counts_[i];
  ++count_;
  max_us_ = std::max(max_us_, micros);
}

void FineHistogram::Merge(const FineHistogram& other) {
  if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_us_ = std::max(max_us_, other.max_us_);
}

uint64_t FineHistogram::QuantileUs(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(HighestInBucket(i), max_us_);
  }
  return max_us_;
}

}  // namespace cistern::loadgen
