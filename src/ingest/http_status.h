// Status -> HTTP status: the one mapping every ingest route answers with (docs/api.md,
// docs/otlp.md), and the media-type test of a Content-Type header.
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "common/status.h"
#include "ingest/http_fwd.h"

namespace cistern {

// How a store that cannot write is answered.
enum class StoreErrors {
  kExact,        // disk full 507, I/O error 500 (POST /events, docs/api.md)
  kUnavailable,  // both 503: OTLP clients retry only 429/502/503/504 (docs/otlp.md)
};

// InvalidArgument 400, TooLarge 413, Unsupported 415, BufferFull/Busy/Unavailable 503,
// DiskFull/IoError as `store_errors` says, Internal 500.
http::status HttpStatusOf(const Status& s, StoreErrors store_errors = StoreErrors::kExact);

// True when `header` (a Content-Type) names `type`, compared case-insensitively, parameters
// ignored: "Application/X-NDJSON; charset=utf-8" is "application/x-ndjson".
bool MediaTypeIs(std::string_view header, std::string_view type);

}  // namespace cistern
