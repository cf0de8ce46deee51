// The HTTP front end's figures, read by /stats and /metrics: answers by exact status code,
// and the latency of every POST to an ingest route, whatever its answer.
// Thread-safety: atomics and LatencyHistogram only; any thread may add or read.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "common/latency_histogram.h"

namespace cistern {

// The routes that take events, each with its own POST latency histogram.
enum class IngestRoute { kEvents, kOtlpLogs, kOtlpMetrics };
inline constexpr std::array<std::string_view, 3> kIngestRoutePaths = {"/events", "/v1/logs",
                                                                      "/v1/metrics"};

struct HttpCounters {
  static constexpr unsigned kMinCode = 100, kMaxCode = 599;

  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> events_accepted{0};       // events in ingest requests answered 200
  std::atomic<int64_t> ingest_unauthorized{0};   // the 401s of the ingest routes
  std::atomic<int64_t> rejected_buffer_full{0};  // the 503s that were "buffer full"
  // Answers by status code (index code - kMinCode); a code out of range counts as 500.
  std::array<std::atomic<int64_t>, kMaxCode - kMinCode + 1> by_code{};
  // POST to an ingest route, request received to answer ready, every answer (by IngestRoute).
  std::array<LatencyHistogram, kIngestRoutePaths.size()> post_latency;

  void Count(unsigned code) {
    if (code < kMinCode || code > kMaxCode) code = 500;
    by_code[code - kMinCode].fetch_add(1, std::memory_order_relaxed);
  }
  int64_t Answered(unsigned code) const {
    return code < kMinCode || code > kMaxCode ? 0 : by_code[code - kMinCode].load();
  }
  // Answers with a code in [first, last].
  int64_t AnsweredIn(unsigned first, unsigned last) const {
    int64_t n = 0;
    for (unsigned c = first; c <= last; ++c) n += Answered(c);
    return n;
  }
  LatencyHistogram& latency(IngestRoute r) { return post_latency[static_cast<size_t>(r)]; }
  const LatencyHistogram& latency(IngestRoute r) const {
    return post_latency[static_cast<size_t>(r)];
  }
};

}  // namespace cistern
