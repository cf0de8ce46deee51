// SessionTracker: the set of live sessions, so that shutdown can reach each one, and the
// connection count that --max-connections is checked against, and the sweep that enforces
// the sessions' deadlines. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace cistern {

class SessionBase;

class SessionTracker {
 public:
  void Add(SessionBase* s, std::weak_ptr<SessionBase> w) {
    std::lock_guard lock(mu_);
    sessions_.emplace(s, std::move(w));
  }
  void Remove(SessionBase* s) {
    std::lock_guard lock(mu_);
    sessions_.erase(s);
  }
  size_t Count() const {
    std::lock_guard lock(mu_);
    return sessions_.size();
  }
  // The sessions still alive, for shutdown.
  std::vector<std::shared_ptr<SessionBase>> Live() const {
    std::lock_guard lock(mu_);
    std::vector<std::shared_ptr<SessionBase>> out;
    for (const auto& [_, w] : sessions_) {
      if (auto s = w.lock()) out.push_back(std::move(s));
    }
    return out;
  }
  // Expires every session whose deadline (steady ms) is before `now_ms`.
  void Sweep(int64_t now_ms) const;
  // Evicts the session that has waited longest for a request; false when none is waiting.
  bool EvictOldestIdle() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;  // guarded by mu_
};

}  // namespace cistern
