// LogSink: the default sink. Logs batch sizes and always acknowledges, so a collector with no
// upstream configured still drains its buffer (and retention applies). To keep the log
// readable under load it writes one info line per batch at most every 5 s, summing the
// batches in between; every batch is logged at debug level.
// Not thread-safe (one uploader thread, like every sink).
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>

#include "sinks/api/sink.h"

namespace cistern {

class LogSink : public Sink {
 public:
  std::string name() const override { return "log"; }
  SendResult Send(const UploadBatch& batch) override {
    spdlog::debug("log sink: {} events, ids {}..{}", batch.size(), batch.first_id(),
                  batch.last_id());
    events_ += static_cast<int64_t>(batch.size());
    ++batches_;
    auto now = std::chrono::steady_clock::now();
    if (now - last_line_ >= std::chrono::seconds(5)) {
      spdlog::info("log sink: shipped {} events in {} batch(es), up to id {}", events_, batches_,
                   batch.last_id());
      events_ = batches_ = 0;
      last_line_ = now;
    }
    return SendResult::Ok();
  }

 private:
  int64_t events_ = 0, batches_ = 0;
  std::chrono::steady_clock::time_point last_line_{};
};

}  // namespace cistern
