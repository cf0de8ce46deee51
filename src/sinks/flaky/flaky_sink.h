// FlakySink: wraps any sink and fails every Nth Send with Retry, without calling the inner
// sink (--flaky-every N, for demos and tests of the retry path). Not thread-safe (one
// uploader thread, like every sink).
#pragma once

#include <memory>

#include "sinks/api/sink.h"

namespace cistern {

class FlakySink : public Sink {
 public:
  // REQUIRES: every >= 1.
  FlakySink(std::unique_ptr<Sink> inner, int every) : inner_(std::move(inner)), every_(every) {}
  std::string name() const override { return inner_->name(); }
  SendResult Send(const UploadBatch& batch) override {
    if (++calls_ % every_ == 0) {
      return SendResult::Retry("flaky: failing cycle " + std::to_string(calls_) +
                               " on purpose (--flaky-every " + std::to_string(every_) + ")");
    }
    return inner_->Send(batch);
  }

 private:
  std::unique_ptr<Sink> inner_;
  const int every_;
  int64_t calls_ = 0;
};

}  // namespace cistern
