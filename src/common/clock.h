// Wall-clock time as stored in the database (event ts, uploaded_at, upload_runs): unix ms.
#pragma once

#include <chrono>
#include <cstdint>

namespace cistern {

inline int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace cistern
