// ComponentStatus: what a background component (the uploader) tells /healthz, /stats and
// /metrics,
// without the HTTP layer depending on it. Implementations must be thread-safe: io threads
// call these while the component runs.
#pragma once

#include <string>

#include "common/json_writer.h"
#include "common/prometheus_writer.h"

namespace cistern {

class ComponentStatus {
 public:
  virtual ~ComponentStatus() = default;
  // False while the component is failing (e.g. the sink refuses batches).
  virtual bool Healthy() const = 0;
  // One word for /healthz: "ok", "failing", ...
  virtual std::string State() const = 0;
  // Writes one JSON object (the value of "uploader" in /stats).
  virtual void WriteStats(JsonWriter& w) const = 0;
  // Appends the component's metric families to GET /metrics.
  virtual void WriteMetrics(PrometheusWriter& w) const = 0;
};

}  // namespace cistern
