// PrometheusWriter: builds a Prometheus text exposition (format 0.0.4) for GET /metrics.
// Each metric family is declared once (HELP + TYPE) and then gets its samples; histograms are
// written whole from a LatencyHistogram snapshot, in seconds, with cumulative buckets and a
// +Inf bucket equal to _count. Label values are escaped (\\, \", \n); names must already be
// valid metric/label names ([a-zA-Z_:][a-zA-Z0-9_:]*), which is the caller's contract.
// Not thread-safe: one writer per scrape.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "common/latency_histogram.h"

namespace cistern {

class PrometheusWriter {
 public:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  // HELP + TYPE lines. type: "counter", "gauge" or "histogram".
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // One sample line of the family declared last (name may carry a suffix such as _total).
  void Sample(std::string_view name, double value, Labels labels = {});
  void Sample(std::string_view name, int64_t value, Labels labels = {});

  // A whole counter/gauge family with one unlabelled sample.
  void Counter(std::string_view name, std::string_view help, int64_t value);
  void Gauge(std::string_view name, std::string_view help, double value);

  // A histogram family of durations: `name`_bucket{le=...}, `name`_sum (seconds), `name`_count.
  // Declare the family once, then call HistogramSamples per label set.
  void Histogram(std::string_view name, std::string_view help, const LatencyHistogram::Snapshot& s);
  void HistogramSamples(std::string_view name, const LatencyHistogram::Snapshot& s,
                        Labels labels = {});

  std::string Take() { return std::move(out_); }

 private:
  void Name(std::string_view name, Labels labels, std::string_view extra_label = {},
            std::string_view extra_value = {});
  std::string out_;
};

}  // namespace cistern
