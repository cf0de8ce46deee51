// A strict parser of the Prometheus text exposition format (0.0.4), for tests: it accepts
// what Prometheus would scrape and rejects, with a message naming the line, anything it would
// not, plus our own conventions. Checked: HELP then TYPE once per family, before its samples;
// metric and label names; label value escapes; float values (+Inf, -Inf, NaN); every sample
// belongs to the family declared last (histograms: _bucket/_sum/_count); no duplicate series;
// counters finite and >= 0; histogram buckets in increasing `le` order, cumulative, ending
// with le="+Inf" equal to _count, and a _sum.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace cistern::testing {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromFamily {
  std::string name, type, help;
  std::vector<PromSample> samples;
};

struct PromExposition {
  std::vector<PromFamily> families;
  // The value of the one sample `name` with exactly `labels`; fails the test when missing.
  double Value(const std::string& name,
               const std::map<std::string, std::string>& labels = {}) const;
  bool Has(const std::string& family) const;
};

Result<PromExposition> ParsePrometheus(const std::string& text);

}  // namespace cistern::testing
