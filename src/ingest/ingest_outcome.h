// What the layers decided about one ingest request (POST /events, /v1/logs, /v1/metrics):
// filled by the route as it goes, read once the answer is ready for the counters and the
// request's log line (docs/api.md, "Logging").
// Thread-safety: belongs to one request; written and read in turn, never concurrently.
#pragma once

#include <cstdint>
#include <utility>

#include "common/status.h"

namespace cistern {

struct IngestOutcome {
  const char* format = "";      // the body's format: "json", "ndjson", "protobuf"
  int64_t events = -1;          // events parsed from the body (-1: not parsed)
  int64_t first_id = -1;        // the first id stored (-1: nothing stored)
  const char* layer = nullptr;  // the layer that refused the request ("parse", "store")
  Status reason;                // ... and why

  void Refuse(const char* by, Status why) {
    layer = by;
    reason = std::move(why);
  }
};

}  // namespace cistern
