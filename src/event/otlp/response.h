// Export*ServiceResponse bodies: partial_success both ways (OTLP spec, "Partial Success").
// The ingest routes encode them; an OTLP sink decodes what its upstream answered. Pure; safe to
// call from any number of threads at once. Never throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "event/otlp/otlp_types.h"

namespace cistern {

struct OtlpPartialSuccess {
  bool present = false;  // the response set partial_success
  int64_t rejected = 0;  // rejected_log_records / rejected_data_points
  std::string error_message;
};

// Decodes a response body. An empty body (of either encoding) means full success. Errors:
// InvalidArgument when the body is not a response of that encoding.
Result<OtlpPartialSuccess> DecodeOtlpLogsResponse(std::string_view body, OtlpEncoding encoding);
Result<OtlpPartialSuccess> DecodeOtlpMetricsResponse(std::string_view body, OtlpEncoding encoding);

// Encodes a response; partial_success is set only when `result.present`.
std::string EncodeOtlpLogsResponse(const OtlpPartialSuccess& result, OtlpEncoding encoding);
std::string EncodeOtlpMetricsResponse(const OtlpPartialSuccess& result, OtlpEncoding encoding);

}  // namespace cistern
