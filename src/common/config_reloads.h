// ConfigReloads: what /stats and /metrics say about the configuration in effect
// (docs/configuration.md "Reload"): when it was loaded, and how many SIGHUP reloads applied or
// failed. Written by the reload (main's thread), read by io threads. Thread-safe (atomics).
#pragma once

#include <atomic>
#include <cstdint>

namespace cistern {

struct ConfigReloads {
  std::atomic<int64_t> loaded_at_ms{0};     // unix ms of the start-up parse or the last good reload
  std::atomic<int64_t> ok{0};               // reloads that parsed (applied, maybe partly)
  std::atomic<int64_t> error{0};            // reloads refused (the running config stays)
  std::atomic<int64_t> restart_pending{0};  // settings changed in the file that need a restart
};

}  // namespace cistern
