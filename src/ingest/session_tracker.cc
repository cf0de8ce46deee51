#include "ingest/session_tracker.h"

#include "ingest/session_base.h"

namespace cistern {

void SessionTracker::Sweep(int64_t now_ms) const {
  for (const auto& s : Live()) {
    int64_t deadline = s->deadline_ms();
    if (deadline != 0 && deadline <= now_ms) s->Expire();
  }
}

bool SessionTracker::EvictOldestIdle() const {
  std::shared_ptr<SessionBase> oldest;
  int64_t since = 0;
  for (const auto& s : Live()) {
    int64_t t = s->idle_since_ms();
    if (t != 0 && (!oldest || t < since)) {
      oldest = s;
      since = t;
    }
  }
  if (!oldest) return false;
  oldest->Evict();
  return true;
}

}  // namespace cistern
