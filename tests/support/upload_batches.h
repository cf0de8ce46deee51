// Test batches for sinks: n events with ids first_id.., every third without a payload, one
// device id that needs JSON escaping.
#pragma once

#include <cstdint>
#include <string>

#include "sinks/api/upload_batch.h"

namespace cistern::testing {

inline UploadBatch MakeUploadBatch(int64_t first_id, int n,
                                   const std::string& node_id = "node-7f3a") {
  UploadBatch b;
  b.node_id = node_id;
  for (int i = 0; i < n; ++i) {
    b.ids.push_back(first_id + i);
    std::string device = i == 1 ? "dev \"quoted\"\\é" : "sensor-" + std::to_string(i % 5);
    std::string payload = R"({"temp":21.5,"seq":)" + std::to_string(i) + R"(,"tags":["a","b"]})";
    b.events.Add(device, i % 2 ? "telemetry" : "alarm", payload, i % 3 != 2, 1748722000000 + i);
  }
  return b;
}

}  // namespace cistern::testing
