#include "uploader/backoff.h"

#include <algorithm>

namespace cistern {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed)
    : initial_(std::max(initial, std::chrono::milliseconds(1))),
      max_(std::max(max, initial_)),
      rng_(seed) {}

std::chrono::milliseconds Backoff::Next() {
  int64_t base = initial_.count();
  for (int i = 0; i < attempt_ && base < max_.count(); ++i) base *= 2;
  base = std::min(base, static_cast<int64_t>(max_.count()));
  ++attempt_;
  std::uniform_int_distribution<int64_t> dist(base / 2, base);
  return std::chrono::milliseconds(dist(rng_));
}

}  // namespace cistern
