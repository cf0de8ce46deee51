#include "ingest/session_tracker.h"

#include "ingest/session.h"

namespace cistern {

void SessionTracker::Sweep(int64_t now_ms) const {
  for (const auto& s : Live()) {
    int64_t deadline = s->deadline_ms();
    if (deadline != 0 && deadline <= now_ms) s->Expire();
  }
}

}  // namespace cistern
