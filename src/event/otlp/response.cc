#include "event/otlp/response.h"

#include "cistern/otlp/logs_service.pb.h"
#include "cistern/otlp/metrics_service.pb.h"
#include "event/otlp/message_io.h"

namespace cistern {
namespace {

using opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse;
using opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceResponse;

template <typename Response, typename GetRejected>
Result<OtlpPartialSuccess> Decode(std::string_view body, OtlpEncoding encoding,
                                  GetRejected rejected) {
  OtlpPartialSuccess out;
  if (body.empty()) return out;
  Response response;
  if (Status s = otlp::ParseOtlpMessage(body, encoding, kOtlpMaxValueDepth, &response); !s.ok()) {
    return Status::InvalidArgument("OTLP response: " + s.message());
  }
  if (response.has_partial_success()) {
    out.present = true;
    out.rejected = rejected(response.partial_success());
    out.error_message = response.partial_success().error_message();
  }
  return out;
}

template <typename Response, typename SetRejected>
std::string Encode(const OtlpPartialSuccess& result, OtlpEncoding encoding, SetRejected set) {
  Response response;
  if (result.present) {
    auto* partial = response.mutable_partial_success();
    set(partial, result.rejected);
    partial->set_error_message(result.error_message);
  }
  std::string body;
  // Fails only for an error_message that is not UTF-8 (JSON); the empty body then reads as full
  // success, which the rejected count cannot be recovered from anyway.
  if (!otlp::SerializeOtlpMessage(response, encoding, &body).ok()) body.clear();
  return body;
}

}  // namespace

Result<OtlpPartialSuccess> DecodeOtlpLogsResponse(std::string_view body, OtlpEncoding encoding) {
  return Decode<ExportLogsServiceResponse>(body, encoding,
                                           [](const auto& p) { return p.rejected_log_records(); });
}

Result<OtlpPartialSuccess> DecodeOtlpMetricsResponse(std::string_view body, OtlpEncoding encoding) {
  return Decode<ExportMetricsServiceResponse>(
      body, encoding, [](const auto& p) { return p.rejected_data_points(); });
}

std::string EncodeOtlpLogsResponse(const OtlpPartialSuccess& result, OtlpEncoding encoding) {
  return Encode<ExportLogsServiceResponse>(
      result, encoding, [](auto* p, int64_t n) { p->set_rejected_log_records(n); });
}

std::string EncodeOtlpMetricsResponse(const OtlpPartialSuccess& result, OtlpEncoding encoding) {
  return Encode<ExportMetricsServiceResponse>(
      result, encoding, [](auto* p, int64_t n) { p->set_rejected_data_points(n); });
}

}  // namespace cistern
