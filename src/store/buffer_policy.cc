#include "store/buffer_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "common/duration.h"

namespace cistern {

int64_t BufferPolicy::EstimateBytes(size_t device, size_t kind, size_t payload) {
  // A table-leaf cell: record header and the id and ts varints (~20 bytes), the cell pointer
  // and cell header (~6); large payloads spill to overflow pages at ~4 bytes per 4 KiB.
  return static_cast<int64_t>(device + kind + payload + 26 + payload / 1024);
}

int64_t BufferPolicy::EstimateBytes(const EventBatch& batch) {
  int64_t total = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    EventView e = batch[i];
    total +=
        EstimateBytes(e.device_id.size(), e.kind.size(), e.has_payload ? e.payload_json.size() : 0);
  }
  return total;
}

BufferLimits BufferPolicy::limits() const {
  BufferLimits l;
  l.max_backlog = max_backlog_.load();
  l.max_db_bytes = max_db_bytes_.load();
  l.schema_bytes = schema_bytes_.load();
  l.on_full = on_full_.load();
  return l;
}

void BufferPolicy::SetLimits(const BufferLimits& l) {
  max_backlog_.store(l.max_backlog);
  max_db_bytes_.store(l.max_db_bytes);
  schema_bytes_.store(l.schema_bytes);
  on_full_.store(l.on_full);
}

Status BufferPolicy::Admit(int64_t events, int64_t bytes, StoreCounters& c) const {
  const BufferLimits lim = limits();
  const int64_t max_events = lim.max_backlog;
  if (max_events > 0 && events > max_events) {
    return Status::TooLarge(fmt::format(
        "batch of {} events is larger than the buffer (--max-backlog {})", events, max_events));
  }
  const int64_t capacity = lim.max_db_bytes - lim.schema_bytes;
  if (lim.max_db_bytes > 0 && bytes > capacity) {
    return Status::TooLarge(fmt::format(
        "request of ~{} is larger than the buffer (--max-db-bytes {}, of which the schema "
        "takes {})",
        FormatSize(bytes), FormatSize(lim.max_db_bytes), FormatSize(lim.schema_bytes)));
  }
  if (lim.on_full != OnFull::kDropOldest) {
    if (lim.max_db_bytes > 0 && c.shipped_events.load(std::memory_order_relaxed) == 0) {
      int64_t used = c.used_bytes.load(std::memory_order_relaxed) +
                     c.reserved_bytes.load(std::memory_order_relaxed);
      if (BytesOver(lim, used, bytes) > 0) return Refusal(lim, 0, 0, used, events, bytes);
    }
    if (max_events > 0) {
      int64_t cur = c.admitted.load();
      do {
        if (cur + events > max_events) {
          // `admitted` is the backlog plus what other requests are storing right now.
          const int64_t backlog = std::min(cur, c.backlog.load(std::memory_order_relaxed));
          return Refusal(lim, backlog, cur - backlog, 0, events, 0);
        }
      } while (!c.admitted.compare_exchange_weak(cur, cur + events));
    } else {
      c.admitted.fetch_add(events);
    }
  } else {
    c.admitted.fetch_add(events);
  }
  c.reserved_bytes.fetch_add(bytes);
  return Status::Ok();
}

void BufferPolicy::Release(int64_t events, int64_t bytes, StoreCounters& c) {
  c.admitted.fetch_sub(events);
  c.reserved_bytes.fetch_sub(bytes);
}

int64_t BufferPolicy::EventsOver(int64_t backlog, int64_t events) const {
  return EventsOver(limits(), backlog, events);
}

int64_t BufferPolicy::EventsOver(const BufferLimits& lim, int64_t backlog, int64_t events) {
  if (lim.max_backlog <= 0) return 0;
  return std::max<int64_t>(0, backlog + events - lim.max_backlog);
}

int64_t BufferPolicy::Headroom(const BufferLimits& lim) {
  // Row estimates are close, but deleting rows frees whole pages only once they empty, and
  // the tree's interior pages grow too: room-making aims this far below the bound.
  return std::max<int64_t>(2 * 4096, lim.max_db_bytes / 64);
}

int64_t BufferPolicy::BytesOver(int64_t used_bytes, int64_t bytes) const {
  return BytesOver(limits(), used_bytes, bytes);
}

int64_t BufferPolicy::BytesOver(const BufferLimits& lim, int64_t used_bytes, int64_t bytes) {
  if (lim.max_db_bytes <= 0) return 0;
  return std::max<int64_t>(0, used_bytes + bytes + Headroom(lim) - lim.max_db_bytes);
}

Status BufferPolicy::Refusal(int64_t backlog, int64_t used_bytes, int64_t events,
                             int64_t bytes) const {
  return Refusal(limits(), backlog, 0, used_bytes, events, bytes);
}

Status BufferPolicy::Refusal(const BufferLimits& lim, int64_t backlog, int64_t in_flight,
                             int64_t used_bytes, int64_t events, int64_t bytes) {
  // What the operator and the client need: how much of this request would fit now, and why.
  if (EventsOver(lim, backlog + in_flight, events) > 0) {
    const int64_t fit = std::max<int64_t>(0, lim.max_backlog - backlog - in_flight);
    return Status::BufferFull(fmt::format(
        "buffer full: {} of the {} events in this request would fit now ({} stored and waiting "
        "for upload{}; --max-backlog {}); retry later",
        fit, events, backlog,
        in_flight > 0 ? fmt::format(", {} more being stored", in_flight) : std::string(),
        lim.max_backlog));
  }
  const int64_t free_bytes = std::max<int64_t>(0, lim.max_db_bytes - Headroom(lim) - used_bytes);
  // Byte sizes are estimates (EstimateBytes), so the count is too: the request's mean size.
  const int64_t fit = events > 0 && bytes > 0
                          ? std::min(events, free_bytes / std::max<int64_t>(1, bytes / events))
                          : 0;
  return Status::BufferFull(fmt::format(
      "buffer full: about {} of the {} events in this request would fit now (it needs ~{}, {} "
      "are free: the database uses {} of --max-db-bytes {}, less {} of headroom, and nothing "
      "uploaded is left to delete); retry later",
      fit, events, FormatSize(bytes), FormatSize(free_bytes), FormatSize(used_bytes),
      FormatSize(lim.max_db_bytes), FormatSize(Headroom(lim))));
}

bool BufferPolicy::Accepting(const StoreCounters& c) const {
  const BufferLimits lim = limits();
  if (lim.on_full == OnFull::kDropOldest) return true;
  if (lim.max_backlog > 0 && c.admitted.load() >= lim.max_backlog) return false;
  if (lim.max_db_bytes > 0 && c.shipped_events.load() == 0 &&
      c.used_bytes.load() >= lim.max_db_bytes) {
    return false;
  }
  return true;
}

}  // namespace cistern
