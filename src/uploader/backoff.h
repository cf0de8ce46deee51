// Backoff: exponential backoff with jitter and a cap, for the uploader's retries.
// Delays grow initial, 2x, 4x, ... up to max; each is drawn uniformly from [d/2, d] ("equal
// jitter") so a fleet of collectors that failed together does not retry in lockstep.
// Not thread-safe; owned by the uploader thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace cistern {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed);
  // The delay before the next retry; each call doubles the base, up to the cap.
  std::chrono::milliseconds Next();
  void Reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  const std::chrono::milliseconds initial_, max_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace cistern
