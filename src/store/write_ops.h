// The typed operations a write path runs besides appends (docs/lifecycle.md). Internal to
// store/: the public API is Store's (MarkUploaded, RecordFailedRun, ...); retention is the
// store's own. Each runs inside a write transaction, in group mode under a savepoint so that
// its own refusal rolls back only itself.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"
#include "sinks/api/upload_batch.h"

namespace cistern {

// The sink acknowledged `batch`: move the upload cursor past it, record the run.
struct MarkUploadedOp {
  const UploadBatch* batch = nullptr;  // owned by the caller until the op completed
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
};

// A ship failed: record (or fold into the previous identical failure) an 'error' run.
struct FailedRunOp {
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  int64_t events = 0;
  std::string error;
};

// Retention: delete shipped events (and their runs) shipped at or before cutoff_ms, at most
// `chunk` events per transaction.
struct RetainOp {
  int64_t cutoff_ms = 0;
  int64_t chunk = 2000;
};

// Rewrites the payload of existing events (the --disjoint experiment only).
struct UpdatePayloadsOp {
  std::vector<std::pair<int64_t, std::string>> updates;  // id -> payload JSON
};

// An MQTT client connects: with `clean`, its stored session (and QoS 2 receipts) end;
// otherwise the session is kept and its receipts come back in OpResult::values.
struct OpenSessionOp {
  std::string client_id;
  bool clean = true;
  int64_t expiry_ms = 0;  // how long the session outlives a disconnect (-1 = for ever)
};

// An MQTT client went away: a session with expiry 0 ends now, others start expiring.
struct CloseSessionOp {
  std::string client_id;
  int64_t expiry_ms = 0;
};

// PUBREL: the QoS 2 exchange of (client, packet id) is over; its receipt goes.
struct ReleaseQos2Op {
  std::string client_id;
  uint16_t packet_id = 0;
};

using LifecycleOp = std::variant<MarkUploadedOp, FailedRunOp, RetainOp, UpdatePayloadsOp,
                                 OpenSessionOp, CloseSessionOp, ReleaseQos2Op>;

struct OpResult {
  Status status;
  int64_t count = 0;            // events marked / deleted / updated
  bool more = false;            // retention: more is due now
  std::vector<int64_t> values;  // OpenSessionOp: the QoS 2 packet ids still received
};
using OpCallback = std::function<void(const OpResult&)>;

}  // namespace cistern
