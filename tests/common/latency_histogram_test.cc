// Tests for LatencyHistogram (src/common/latency_histogram.h): bucket placement, the snapshot
// totals, and QuantileUs (a bucket upper bound, capped at the largest sample; 0 when empty).
#include "common/latency_histogram.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <numeric>
#include <thread>
#include <vector>

namespace cistern {
namespace {

using Bounds = std::array<uint64_t, LatencyHistogram::kBuckets>;

// Index of the single non-empty bucket, or -1 if the counts are not exactly one sample.
int OnlyBucket(const LatencyHistogram::Snapshot& s) {
  int found = -1;
  for (int i = 0; i < LatencyHistogram::kBuckets; ++i) {
    if (s.counts[i] == 0) continue;
    if (s.counts[i] != 1 || found != -1) return -1;
    found = i;
  }
  return found;
}

TEST(LatencyHistogramTest, BoundsAreIncreasingFromTenMicrosToSixtySecondsThenInfinity) {
  const Bounds& b = LatencyHistogram::UpperBoundsUs();
  EXPECT_EQ(b.front(), 10u);
  EXPECT_EQ(b[LatencyHistogram::kBuckets - 2], 60'000'000u);
  EXPECT_EQ(b.back(), std::numeric_limits<uint64_t>::max());
  for (int i = 1; i < LatencyHistogram::kBuckets; ++i) EXPECT_LT(b[i - 1], b[i]) << i;
}

TEST(LatencyHistogramTest, EmptySnapshotIsAllZero) {
  LatencyHistogram h;
  LatencyHistogram::Snapshot s = h.Take();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.sum_us, 0u);
  EXPECT_EQ(s.max_us, 0u);
  for (uint64_t c : s.counts) EXPECT_EQ(c, 0u);
  for (double q : {0.0, 0.5, 0.99, 1.0}) EXPECT_EQ(s.QuantileUs(q), 0u) << q;
}

// A sample equal to a bound belongs to that bound's bucket; one more goes to the next bucket.
TEST(LatencyHistogramTest, UpperBoundsAreInclusive) {
  const Bounds& b = LatencyHistogram::UpperBoundsUs();
  for (int i = 0; i + 1 < LatencyHistogram::kBuckets; ++i) {
    LatencyHistogram at, above;
    at.Record(b[i]);
    above.Record(b[i] + 1);
    EXPECT_EQ(OnlyBucket(at.Take()), i) << "sample " << b[i];
    EXPECT_EQ(OnlyBucket(above.Take()), i + 1) << "sample " << b[i] + 1;
  }
}

TEST(LatencyHistogramTest, ExtremeSamplesLandInFirstAndLastBuckets) {
  LatencyHistogram zero, huge;
  zero.Record(0);
  huge.Record(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(OnlyBucket(zero.Take()), 0);
  EXPECT_EQ(OnlyBucket(huge.Take()), LatencyHistogram::kBuckets - 1);
  EXPECT_EQ(huge.Take().max_us, std::numeric_limits<uint64_t>::max());
}

TEST(LatencyHistogramTest, SnapshotTracksCountSumAndMax) {
  LatencyHistogram h;
  const std::vector<uint64_t> samples = {7, 300, 12, 250'000, 45, 3};
  for (uint64_t us : samples) h.Record(us);
  LatencyHistogram::Snapshot s = h.Take();
  EXPECT_EQ(s.count, samples.size());
  EXPECT_EQ(s.sum_us, 7u + 300 + 12 + 250'000 + 45 + 3);
  EXPECT_EQ(s.max_us, 250'000u);
  EXPECT_EQ(std::accumulate(s.counts.begin(), s.counts.end(), uint64_t{0}), samples.size());
  EXPECT_EQ(s.counts[0], 2u);   // 7 and 3 are <= 10
  EXPECT_EQ(s.counts[1], 1u);   // 12 is in (10, 20]
  EXPECT_EQ(s.counts[2], 1u);   // 45 is in (20, 50]
  EXPECT_EQ(s.counts[5], 1u);   // 300 is in (200, 500]
  EXPECT_EQ(s.counts[14], 1u);  // 250'000 is in (200'000, 500'000]
}

TEST(LatencyHistogramTest, TakeDoesNotReset) {
  LatencyHistogram h;
  h.Record(100);
  EXPECT_EQ(h.Take().count, 1u);
  h.Record(100);
  EXPECT_EQ(h.Take().count, 2u);
}

TEST(LatencyHistogramTest, QuantileIsTheBucketUpperBound) {
  // 90 fast samples (15 µs -> bucket <= 20) and 10 slow ones (30 ms -> bucket <= 50 ms), plus
  // one 40 ms so that the maximum sits above 30 ms but below the 50 ms bound.
  LatencyHistogram h;
  for (int i = 0; i < 90; ++i) h.Record(15);
  for (int i = 0; i < 9; ++i) h.Record(30'000);
  h.Record(40'000);
  LatencyHistogram::Snapshot s = h.Take();
  EXPECT_EQ(s.QuantileUs(0.0), 20u);
  EXPECT_EQ(s.QuantileUs(0.5), 20u);
  EXPECT_EQ(s.QuantileUs(0.85), 20u);
  // Above the 90th percentile every sample is slow; the 50 ms bound is capped at the max.
  EXPECT_EQ(s.QuantileUs(0.95), 40'000u);
  EXPECT_EQ(s.QuantileUs(0.99), 40'000u);
  EXPECT_EQ(s.QuantileUs(1.0), 40'000u);
}

TEST(LatencyHistogramTest, QuantileNeverExceedsTheLargestSample) {
  LatencyHistogram h;
  h.Record(11);  // bucket bound is 20
  LatencyHistogram::Snapshot s = h.Take();
  EXPECT_EQ(s.QuantileUs(0.5), 11u);
  EXPECT_EQ(s.QuantileUs(1.0), 11u);

  // A sample above 60 s lands in the +Inf bucket; the quantile is the sample, not 2^64-1.
  LatencyHistogram slow;
  slow.Record(90'000'000);
  EXPECT_EQ(slow.Take().QuantileUs(0.99), 90'000'000u);
}

TEST(LatencyHistogramTest, QuantilesAreMonotonicInQ) {
  LatencyHistogram h;
  uint64_t x = 12345;
  for (int i = 0; i < 5000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;  // LCG: deterministic spread
    h.Record((x >> 33) % 5'000'000);
  }
  LatencyHistogram::Snapshot s = h.Take();
  uint64_t prev = 0;
  for (int p = 0; p <= 100; ++p) {
    uint64_t v = s.QuantileUs(p / 100.0);
    EXPECT_GE(v, prev) << "q=" << p / 100.0;
    EXPECT_LE(v, s.max_us) << "q=" << p / 100.0;
    prev = v;
  }
  EXPECT_EQ(s.QuantileUs(1.0), s.max_us);
}

TEST(LatencyHistogramTest, ConcurrentRecordsAreAllCounted) {
  LatencyHistogram h;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < kPerThread; ++i) h.Record(static_cast<uint64_t>(t * 1000 + i % 7));
    });
  }
  for (auto& th : threads) th.join();
  LatencyHistogram::Snapshot s = h.Take();
  EXPECT_EQ(s.count, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(std::accumulate(s.counts.begin(), s.counts.end(), uint64_t{0}), s.count);
  EXPECT_EQ(s.max_us, uint64_t{(kThreads - 1) * 1000 + 6});
  uint64_t want_sum = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) want_sum += static_cast<uint64_t>(t * 1000 + i % 7);
  }
  EXPECT_EQ(s.sum_us, want_sum);
}

}  // namespace
}  // namespace cistern
