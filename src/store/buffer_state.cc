#include "store/buffer_state.h"

#include <algorithm>

namespace cistern {

TxnEffects TxnEffects::Begin(const BufferState& s) {
  TxnEffects fx;
  fx.next_id = s.next_id.load(std::memory_order_relaxed);
  fx.first_new_id = fx.next_id;
  fx.cursor = s.cursor.load(std::memory_order_relaxed);
  fx.min_id = s.min_id;
  fx.dropped_through = s.dropped_through;
  fx.backlog = s.backlog;
  fx.used_bytes = s.used_bytes;
  fx.last_run = s.last_run;
  fx.high_water = s.high_water_saved;
  return fx;
}

void TxnEffects::Apply(BufferState* s, StoreCounters* c) const {
  s->next_id.store(next_id, std::memory_order_relaxed);
  s->cursor.store(cursor, std::memory_order_release);
  s->min_id = min_id;
  s->dropped_through = dropped_through;
  s->backlog = backlog;
  s->high_water_saved = std::max(s->high_water_saved, high_water);
  s->last_run = last_run;
  for (const auto& [key, row] : new_device_rows) s->device_rows.emplace(key, row);

  c->events_written.store(next_id - 1, std::memory_order_relaxed);
  c->events_written_session.fetch_add(appended, std::memory_order_relaxed);
  c->backlog.store(backlog, std::memory_order_relaxed);
  // Appended events were counted in `admitted` when they were admitted.
  c->admitted.fetch_sub(shipped + evicted, std::memory_order_relaxed);
  c->events_uploaded.fetch_add(shipped, std::memory_order_relaxed);
  c->events_dropped.fetch_add(evicted, std::memory_order_relaxed);
  c->events_pruned.fetch_add(pruned, std::memory_order_relaxed);
  c->dead_letters.fetch_add(dead_letters, std::memory_order_relaxed);
  c->devices_seen.store(static_cast<int64_t>(s->device_rows.size()), std::memory_order_relaxed);
  c->shipped_events.store(std::max<int64_t>(0, cursor - min_id + 1), std::memory_order_relaxed);
  c->requests_committed.fetch_add(requests, std::memory_order_relaxed);
}

}  // namespace cistern
