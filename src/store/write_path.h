// WritePath: how writes reach the file. Three implementations, chosen by --mode:
//   group       (Writer)        one writer thread; requests and ops queued during a commit
//                               share the next transaction (the default, and the fast one)
//   serialized  (DirectWriter)  one connection under a mutex; one transaction per request,
//                               run on the caller's thread (the reference's baseline)
//   concurrent  (DirectWriter)  a connection per calling thread; one transaction per request;
//                               SQLite's busy conflicts retried with a bounded budget and
//                               counted in commit_conflicts
// All three keep the same promises: a request is stored all-or-nothing; its callback runs only
// after the COMMIT that made it durable returned (or with the error); ids are assigned inside
// the transaction that stores them, while it holds SQLite's write lock, so transactions commit
// in id order and every reader sees a prefix of the ids (docs/lifecycle.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "event/event.h"
#include "store/write_ops.h"

namespace cistern {

struct AppendResult {
  Status status;
  int64_t first_id = 0;  // ids of the request are first_id .. first_id + count - 1
  size_t count = 0;
  // An MQTT QoS 2 PUBLISH whose (client, packet id) receipt was already stored: nothing of
  // it was stored again (status ok, count 0).
  bool duplicate = false;
};
// Input a front-end acknowledged but could not turn into an event (an MQTT 3.1.1 payload that
// is not JSON, an OTLP record over the payload limit): kept, bounded, never dropped silently.
struct DeadLetter {
  std::string source;  // "mqtt", "otlp-logs", "otlp-metrics", ...
  std::string reason;  // why it is not an event
  std::string origin;  // where it came from (client id and topic, resource and record)
  std::string body;    // the input as received
};

// What a request stores beside its events, in the same transaction.
struct AppendExtras {
  std::vector<DeadLetter> dead_letters;
  // With qos2_packet_id != 0: the request is that MQTT QoS 2 PUBLISH of qos2_client; its
  // receipt is committed with its events, so a re-sent PUBLISH is not stored twice: when the
  // receipt is already there, nothing of the request is stored (AppendResult::duplicate).
  std::string qos2_client;
  uint16_t qos2_packet_id = 0;
  bool empty() const { return dead_letters.empty() && qos2_packet_id == 0; }
};

// Called exactly once per request. In group mode it runs on the writer thread and must not
// block: post the answer to the connection's executor and return.
using AppendCallback = std::function<void(const AppendResult&)>;

enum class WriteMode { kGroup, kSerialized, kConcurrent };
const char* WriteModeName(WriteMode mode);
// "group" | "serialized" | "concurrent"; InvalidArgument otherwise.
Result<WriteMode> ParseWriteMode(std::string_view name);

class WritePath {
 public:
  virtual ~WritePath() = default;
  // Stores `batch` atomically, as BufferPolicy allows (its admission already counted
  // `bytes`); see the callback contract above. After Stop() began, completes at once with
  // Unavailable.
  virtual void Submit(EventBatch batch, AppendExtras extras, int64_t bytes,
                      AppendCallback done) = 0;
  // Runs `op` in a write transaction (group mode: possibly together with other requests and
  // ops; its own refusal rolls back only itself), then calls `done` with the outcome.
  virtual void Run(LifecycleOp op, OpCallback done) = 0;
  // Finishes everything already submitted, checkpoints (TRUNCATE) and closes the file's
  // connections. Idempotent.
  virtual void Stop() = 0;
  // Requests waiting to be written (group mode's queue; 0 for the direct modes).
  virtual size_t QueueDepth() const = 0;
};

}  // namespace cistern
