// StoreCounters: the live figures behind /stats, shared by the write path (which updates them
// after each commit, from what the transaction did: docs/lifecycle.md) and any thread that
// reads them. All fields are atomics; a reader
// may see one counter updated before another, which is fine for monitoring.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/latency_histogram.h"

namespace cistern {

struct StoreCounters {
  // Highest event id ever assigned: ids start at 1 and are never reused, so this is also the
  // number of events ever written to this file. Restored at start-up from max(id) / meta.
  std::atomic<int64_t> events_written{0};
  // Events written since this process opened the store.
  std::atomic<int64_t> events_written_session{0};
  // Committed events not yet shipped (ids above the upload cursor); = sum(devices.pending).
  std::atomic<int64_t> backlog{0};
  // backlog + events admitted but not yet committed: what admission control checks, so the
  // backlog can never pass --max-backlog however many requests are in flight.
  std::atomic<int64_t> admitted{0};
  std::atomic<int64_t> devices_seen{0};
  std::atomic<int64_t> events_uploaded{0};  // shipped and marked by this process
  std::atomic<int64_t> events_dropped{0};   // un-uploaded events evicted (--on-full drop-oldest)
  std::atomic<int64_t> events_pruned{0};    // uploaded events deleted (retention, size bound)
  std::atomic<int64_t> dead_letters{0};     // dead letters stored by this process
  std::atomic<int64_t> used_bytes{0};       // in-use pages x page size of the main file
  // Estimated bytes of requests admitted but not yet written (admission's view of room).
  std::atomic<int64_t> reserved_bytes{0};
  // Shipped events still in the file (the ones room-making may delete first).
  std::atomic<int64_t> shipped_events{0};
  std::atomic<int64_t> commits{0};          // successful write transactions
  std::atomic<int64_t> commit_failures{0};  // failed write transactions
  std::atomic<int64_t> requests_committed{0};
  std::atomic<int64_t> commit_conflicts{0};  // busy/snapshot conflicts retried (concurrent mode)
  std::atomic<int64_t> wal_frames{0};        // frames in the WAL after the last commit
  std::atomic<int64_t> checkpoints{0};       // PASSIVE checkpoints run by the writer
  LatencyHistogram commit_latency;           // BEGIN..COMMIT of each group
  // Its phases (CommitTimer in write_shared.h): the write lock, the statements, COMMIT.
  LatencyHistogram commit_begin_latency;
  LatencyHistogram commit_store_latency;
  LatencyHistogram commit_sync_latency;
  LatencyHistogram checkpoint_latency;  // each checkpoint (part of its COMMIT)
  // Catch-up checkpoints handed to the Checkpointer thread (the WAL had grown past
  // WriteState::catchup_frames, e.g. behind a long reader), and their duration (not in any
  // COMMIT).
  std::atomic<int64_t> checkpoints_deferred{0};
  std::atomic<int64_t> inline_checkpoint_max_frames{0};  // most frames one in-commit one faced
  std::atomic<int64_t> background_checkpoints{0};
  LatencyHistogram background_checkpoint_latency;
};

}  // namespace cistern
