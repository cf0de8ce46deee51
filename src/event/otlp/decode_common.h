// Mapping rules shared by the logs and metrics decoders (decode.h). Internal to the OTLP codec.
// Not thread-safe per object (EventCollector); the functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cistern/otlp/resource.pb.h"
#include "common/status.h"
#include "event/otlp/decode.h"

namespace cistern::otlp {

// `text` as a valid Cistern field: control characters -> '_', cut to max_bytes on a UTF-8
// boundary. REQUIRES: text is valid UTF-8 (protobuf and simdjson both check it).
std::string FieldText(std::string_view text, size_t max_bytes);

// device_id for the records of one resource (decode.h). resource may be null (absent).
std::string DeviceIdOf(const opentelemetry::proto::resource::v1::Resource* resource,
                       const OtlpDecodeOptions& options, size_t max_field_bytes);

// Unix nanoseconds -> unix ms; 0 for a time under 1 ms (absent).
inline int64_t NanosToMs(uint64_t nanos) { return static_cast<int64_t>(nanos / 1'000'000); }

// 413 for a request holding `count` records over `limit`.
Status TooManyRecords(size_t count, size_t limit, std::string_view noun);

// Adds each decoded record to OtlpDecoded: to `events`, or to `rejected` when its payload is
// over the limit.
class EventCollector {
 public:
  EventCollector(const OtlpLimits& limits, OtlpDecoded* out) : limits_(limits), out_(out) {}

  void Add(std::string_view device_id, std::string_view kind, int64_t ts,
           std::string_view payload_json);

 private:
  const OtlpLimits& limits_;
  OtlpDecoded* out_;
  size_t index_ = 0;
};

}  // namespace cistern::otlp
