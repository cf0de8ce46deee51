#include "store/registry.h"

#include <filesystem>
#include <system_error>

namespace cistern {

std::string StoreRegistry::Canonical(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  if (ec) return path;
  auto canon = std::filesystem::weakly_canonical(abs, ec);
  return ec ? abs.lexically_normal().string() : canon.string();
}

Result<std::shared_ptr<Store>> StoreRegistry::Open(StoreOptions options) {
  std::string key = Canonical(options.path);
  std::lock_guard lock(mu_);
  if (auto it = stores_.find(key); it != stores_.end()) {
    if (auto live = it->second.lock()) {
      if (options.indexed && !live->Stats().indexed) {
        return Status::InvalidArgument("database " + key +
                                       " is already open in this process without --indexed");
      }
      return live;
    }
  }
  // Held across the open so two threads opening the same new path cannot both try.
  auto store = Store::Open(options);
  if (!store.ok()) return store.status();
  stores_[key] = store.value();
  return store;
}

}  // namespace cistern
