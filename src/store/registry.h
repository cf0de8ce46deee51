// StoreRegistry: the in-process half of "one database per file" (docs/architecture.md).
// Every Open of the same canonical path returns the same Store while any holder keeps it
// alive, so two components of one process never fight over a file (the cross-process half is
// the FileLock inside Store). Not a global: main owns one and passes it to whoever opens.
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "store/store.h"

namespace cistern {

class StoreRegistry {
 public:
  // Returns the live Store for options.path's canonical path, or opens one. A second Open
  // that asks for the index when the open store has none fails with InvalidArgument rather
  // than silently ignoring the option. Errors from Store::Open pass through.
  Result<std::shared_ptr<Store>> Open(StoreOptions options);

  // Canonical form of a database path (absolute, symlinks and .. resolved where they exist).
  static std::string Canonical(const std::string& path);

 private:
  std::mutex mu_;
  std::map<std::string, std::weak_ptr<Store>> stores_;  // guarded by mu_
};

}  // namespace cistern
