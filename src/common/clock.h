// Wall-clock time as stored in the database (event ts, uploaded_at, upload_runs): unix ms.
// SteadyMillis: monotonic ms for rate limits and deadlines (never stored).
#pragma once

#include <chrono>
#include <cstdint>

namespace cistern {

inline int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace cistern
