// BufferPolicy: the one place that decides what "full" means and what may be deleted to make
// room (docs/lifecycle.md). Admission (io threads), room-making (the write path, inside the
// transaction that inserts the arriving events), readiness (/readyz) and the start-up check
// of --max-db-bytes all ask it; nothing else decides.
//
// The rules:
//  - Shipped events are deleted first, whatever their age, when arriving events need their
//    bytes (they were delivered; keeping them would refuse or evict events that were not).
//  - Then, with kReject, an arriving request that does not fit is refused (503, nothing
//    stored); with kDropOldest, the oldest pending events are evicted, only as many (and as
//    many bytes) as the arriving request needs, and only to admit it: a transaction without
//    arriving events never evicts.
//  - A request larger than the whole buffer is refused at once (413), whatever the policy.
//
// Byte figures are estimates of a row's on-disk size (EstimateBytes); the store refreshes
// the file's real in-use size after every commit, so estimation errors never accumulate.
//
// Thread-safety: every method may be called from any thread. SetLimits (a config reload,
// docs/configuration.md "Reload") replaces the bounds atomically field by field; each method
// reads one snapshot of them (limits()), so a call sees either the old or the new value of
// each bound, never a torn one.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/status.h"
#include "event/event.h"
#include "store/counters.h"

namespace cistern {

// What to do when the buffer is full (--max-backlog or --max-db-bytes reached).
enum class OnFull {
  kReject,      // 503 + Retry-After; nothing stored
  kDropOldest,  // evict the oldest pending events to make room; counted in events_dropped
};

struct BufferLimits {
  int64_t max_backlog = 0;   // pending events at most (0 = unbounded)
  int64_t max_db_bytes = 0;  // in-use bytes of the main file at most (0 = unbounded)
  int64_t schema_bytes = 0;  // what the empty schema occupies (part of max_db_bytes)
  OnFull on_full = OnFull::kReject;
};

class BufferPolicy {
 public:
  explicit BufferPolicy(BufferLimits limits) { SetLimits(limits); }

  // A snapshot of the bounds in effect.
  BufferLimits limits() const;
  // Replaces max_backlog, max_db_bytes and on_full (schema_bytes is fixed by the schema).
  void SetLimits(const BufferLimits& limits);
  bool evicts() const { return on_full_.load() == OnFull::kDropOldest; }
  const char* on_full_name() const { return evicts() ? "drop-oldest" : "reject"; }

  // The estimated on-disk size of one stored event: its strings plus record and cell
  // overhead. Used for admission and room-making, never for anything durable.
  static int64_t EstimateBytes(size_t device, size_t kind, size_t payload);
  static int64_t EstimateBytes(const EventBatch& batch);

  // On an io thread, before a request goes to the write path. Ok: `events` and `bytes` are
  // now counted in counters.admitted / reserved_bytes (the write path gives them back when it
  // is done with the request). TooLarge: the request alone exceeds the buffer. BufferFull:
  // with kReject, it does not fit now (the message says how many of its events would fit
  // now, and why: the backlog, the events other requests are storing, the bytes free).
  Status Admit(int64_t events, int64_t bytes, StoreCounters& counters) const;
  // Gives back what Admit counted, for a request that will not reach the write path.
  static void Release(int64_t events, int64_t bytes, StoreCounters& counters);

  // Inside the write transaction: how far over each bound adding `events` / `bytes` would
  // take the buffer, given its pending count and in-use bytes at this point of the
  // transaction (0 = within the bound, or no bound).
  int64_t EventsOver(int64_t backlog, int64_t events) const;
  // (The byte bound keeps a little headroom: see Headroom().)
  int64_t BytesOver(int64_t used_bytes, int64_t bytes) const;
  // The refusal for a request that still does not fit once room-making is done.
  Status Refusal(int64_t backlog, int64_t used_bytes, int64_t events, int64_t bytes) const;

  // Readiness: true while an arriving request of ordinary size would be accepted (kReject:
  // below both bounds, or shipped events left to delete; kDropOldest: always).
  bool Accepting(const StoreCounters& counters) const;

 private:
  // Bytes below max_db_bytes that room-making aims for, so that estimation errors within one
  // transaction do not take the file over the bound.
  static int64_t Headroom(const BufferLimits& l);
  static int64_t EventsOver(const BufferLimits& l, int64_t backlog, int64_t events);
  static int64_t BytesOver(const BufferLimits& l, int64_t used_bytes, int64_t bytes);
  // `in_flight`: events admitted by other requests and not committed yet.
  static Status Refusal(const BufferLimits& l, int64_t backlog, int64_t in_flight,
                        int64_t used_bytes, int64_t events, int64_t bytes);

  std::atomic<int64_t> max_backlog_{0}, max_db_bytes_{0}, schema_bytes_{0};
  std::atomic<OnFull> on_full_{OnFull::kReject};
};

}  // namespace cistern
