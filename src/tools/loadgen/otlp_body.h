// OTLP request bodies for `cistern-loadgen --otlp` (docs/otlp.md, "Benchmark"): protobuf
// ExportLogsServiceRequests shaped like an OpenTelemetry SDK's batch (one resource per device,
// one scope, `n` log records with a body, severity, attributes and trace context), and the
// reading of the answer. Not thread-safe: one factory per load run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cistern::loadgen {

class OtlpLogsFactory {
 public:
  // REQUIRES: devices >= 1.
  explicit OtlpLogsFactory(int devices) : devices_(devices) {}
  // Replaces *body with a request of `n` log records from the next device in turn, stamped
  // with the current time. REQUIRES: n >= 1.
  void Build(int n, std::string* body);

 private:
  int devices_;
  uint64_t next_device_ = 0;
  uint64_t next_record_ = 0;
};

// Reads a 200 answer (an ExportLogsServiceResponse in protobuf): true when it is one and
// reports no rejected record; otherwise false with the reason in *why.
bool OtlpLogsAccepted(std::string_view body, std::string* why);

}  // namespace cistern::loadgen
