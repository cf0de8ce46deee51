// The router's options (ingest/router.h): body and parse limits, OTLP device attributes,
// bearer tokens and allowed Host names. A plain struct without Boost or simdjson, so the
// daemon's Config (app/config.h) can hold it; a reload replaces it whole (Router::SetOptions).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "event/otlp/decode.h"
#include "event/parse_limits.h"

namespace cistern {

struct RouterOptions {
  size_t max_body_bytes = 1 << 20;  // also bounds a gzip body once decompressed
  ParseLimits parse;
  int retry_after_seconds = 1;
  // OTLP ingest: resource attributes tried for device_id (--otlp-device-attrs).
  OtlpDecodeOptions otlp_decode;
  // Bearer tokens accepted for POST /events and the OTLP routes (empty = open). /healthz,
  // /readyz and /livez are always open.
  std::vector<std::string> ingest_tokens;
  // Bearer tokens required for /stats and /metrics (empty = open).
  std::vector<std::string> admin_tokens;
  // Host names (lower case, no port) a request's Host may name; empty = any. Guards the
  // open endpoints against DNS rebinding when no token is set (docs/security.md).
  std::vector<std::string> allowed_hosts;
};

}  // namespace cistern
