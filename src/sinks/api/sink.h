// Sink: where the uploader ships batches (docs/delivery.md). One small interface; one
// folder per implementation under src/sinks/ with a factory function; the uploader picks one
// by --sink name.
//
// Contract for every sink:
//  - Send() ships the whole batch and returns only when the upstream acknowledged all of it
//    (kOk), or failed. It blocks the calling (uploader) thread and must bound its own wait
//    (timeouts); it is never called concurrently.
//  - Delivery is at-least-once: the same batch (same ids) may be sent again after a failure
//    or a crash between ship and checkpoint. Sinks that can de-duplicate do so on
//    (node_id, id): JetStream's Nats-Msg-Id, the webhook's Idempotency-Key.
//  - Failures are classified as Fluent Bit does: kRetry (transport error, timeout, 5xx, 408,
//    429: try again later, with backoff) or kPermanent (upstream will never accept this batch
//    as it is, e.g. 4xx). Both leave the events in the buffer; the uploader decides.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "sinks/api/upload_batch.h"

namespace cistern {

struct SendResult {
  enum class Outcome { kOk, kRetry, kPermanent };
  Outcome outcome = Outcome::kOk;
  std::string error;       // empty on kOk
  int64_t duplicates = 0;  // events the upstream reported as already received (JetStream)
  // kRetry: the upstream asked to wait this long (Retry-After); the uploader waits at least
  // this (capped by its max backoff) before the next try. 0 = its own backoff alone.
  std::chrono::milliseconds retry_after{0};
  // kOk: events the upstream took the request for but reported rejecting (OTLP
  // partial_success): delivered as far as at-least-once goes, counted and logged by the sink.
  int64_t rejected = 0;

  bool ok() const { return outcome == Outcome::kOk; }
  static SendResult Ok(int64_t duplicates = 0) { return {Outcome::kOk, "", duplicates, {}}; }
  static SendResult Retry(std::string e, std::chrono::milliseconds after = {}) {
    return {Outcome::kRetry, std::move(e), 0, after};
  }
  static SendResult Permanent(std::string e) { return {Outcome::kPermanent, std::move(e), 0, {}}; }
};

class Sink {
 public:
  virtual ~Sink() = default;
  // "log", "webhook", "nats", "mqtt", ...
  virtual std::string name() const = 0;
  // See the contract above. REQUIRES: !batch.empty().
  virtual SendResult Send(const UploadBatch& batch) = 0;
};

}  // namespace cistern
