#include "store/buffer_policy.h"

#include <fmt/format.h>

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

Status BufferPolicy::Admit(int64_t events, int64_t bytes, StoreCounters& c) const {
  const int64_t max_events = limits_.max_backlog;
  if (max_events > 0 && events > max_events) {
    return Status::TooLarge(fmt::format(
        "batch of {} events is larger than the buffer (--max-backlog {})", events, max_events));
  }
  const int64_t capacity = limits_.max_db_bytes - limits_.schema_bytes;
  if (limits_.max_db_bytes > 0 && bytes > capacity) {
    return Status::TooLarge(fmt::format(
        "request of ~{} is larger than the buffer (--max-db-bytes {}, of which the schema "
        "takes {})",
        FormatSize(bytes), FormatSize(limits_.max_db_bytes), FormatSize(limits_.schema_bytes)));
  }
  if (!evicts()) {
    if (limits_.max_db_bytes > 0 && c.shipped_events.load(std::memory_order_relaxed) == 0) {
      int64_t used = c.used_bytes.load(std::memory_order_relaxed) +
                     c.reserved_bytes.load(std::memory_order_relaxed);
      if (BytesOver(used, bytes) > 0) return Refusal(0, used, 0, bytes);
    }
    if (max_events > 0) {
      int64_t cur = c.admitted.load();
      do {
        if (cur + events > max_events) return Refusal(cur, 0, events, 0);
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
  if (limits_.max_backlog <= 0) return 0;
  return std::max<int64_t>(0, backlog + events - limits_.max_backlog);
}

int64_t BufferPolicy::Headroom() const {
  // Row estimates are close, but deleting rows frees whole pages only once they empty, and
  // the tree's interior pages grow too: room-making aims this far below the bound.
  return std::max<int64_t>(2 * 4096, limits_.max_db_bytes / 64);
}

int64_t BufferPolicy::BytesOver(int64_t used_bytes, int64_t bytes) const {
  if (limits_.max_db_bytes <= 0) return 0;
  return std::max<int64_t>(0, used_bytes + bytes + Headroom() - limits_.max_db_bytes);
}

Status BufferPolicy::Refusal(int64_t backlog, int64_t used_bytes, int64_t events,
                             int64_t bytes) const {
  if (EventsOver(backlog, events) > 0) {
    int64_t fit = std::max<int64_t>(0, limits_.max_backlog - backlog);
    return Status::BufferFull(fmt::format(
        "buffer full: {} events wait for upload and {} more would pass --max-backlog {} "
        "({} would fit)",
        backlog, events, limits_.max_backlog, fit));
  }
  int64_t free_bytes = std::max<int64_t>(0, limits_.max_db_bytes - Headroom() - used_bytes);
  return Status::BufferFull(fmt::format(
      "buffer full: the database uses {} of --max-db-bytes {} and nothing uploaded is left to "
      "delete; this request needs ~{}, {} are free (after {} of headroom)",
      FormatSize(used_bytes), FormatSize(limits_.max_db_bytes), FormatSize(bytes),
      FormatSize(free_bytes), FormatSize(Headroom())));
}

bool BufferPolicy::Accepting(const StoreCounters& c) const {
  if (evicts()) return true;
  if (limits_.max_backlog > 0 && c.admitted.load() >= limits_.max_backlog) return false;
  if (limits_.max_db_bytes > 0 && c.shipped_events.load() == 0 &&
      c.used_bytes.load() >= limits_.max_db_bytes) {
    return false;
  }
  return true;
}

}  // namespace cistern
