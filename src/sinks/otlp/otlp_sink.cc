#include "sinks/otlp/otlp_sink.h"

#include <spdlog/spdlog.h>

#include "event/otlp/encode.h"
#include "event/otlp/response.h"
#include "sinks/http/http_post.h"

namespace cistern {
namespace {

// Enough for any Export*ServiceResponse with a partial_success message.
constexpr size_t kMaxResponseBytes = 64 * 1024;

class OtlpSink final : public Sink {
 public:
  OtlpSink(OtlpSinkOptions options, std::unique_ptr<HttpPoster> logs,
           std::unique_ptr<HttpPoster> metrics)
      : options_(std::move(options)), logs_(std::move(logs)), metrics_(std::move(metrics)) {
    headers_.push_back(options_.encoding == OtlpEncoding::kProtobuf
                           ? "Content-Type: application/x-protobuf"
                           : "Content-Type: application/json");
    if (options_.gzip) headers_.push_back("Content-Encoding: gzip");
    headers_.insert(headers_.end(), options_.headers.begin(), options_.headers.end());
  }

  std::string name() const override { return "otlp"; }
  SendResult Send(const UploadBatch& batch) override;

 private:
  // One export request; ok() or the SendResult to return.
  SendResult Export(HttpPoster& poster, const std::string& body, bool logs);

  const OtlpSinkOptions options_;
  const std::unique_ptr<HttpPoster> logs_, metrics_;
  std::vector<std::string> headers_;
  std::vector<OtlpStoredEvent> events_;  // reused between batches
  std::string gzipped_;
  int64_t rejected_total_ = 0;
};

SendResult OtlpSink::Export(HttpPoster& poster, const std::string& body, bool logs) {
  const std::string* payload = &body;
  if (options_.gzip) {
    if (!GzipInto(body, &gzipped_)) return SendResult::Retry("otlp: gzip failed");
    payload = &gzipped_;
  }
  HttpPostResult r = poster.Post(*payload, headers_);
  if (!r.transport_ok) return SendResult::Retry(std::move(r.error));
  if (r.ok()) {
    auto partial = logs ? DecodeOtlpLogsResponse(r.body, options_.encoding)
                        : DecodeOtlpMetricsResponse(r.body, options_.encoding);
    int64_t rejected = 0;
    if (partial.ok() && partial->rejected > 0) {
      rejected = partial->rejected;
      rejected_total_ += partial->rejected;
      spdlog::warn("otlp {}: upstream rejected {} {} ({} in total): {}", poster.display_url(),
                   partial->rejected, logs ? "log records" : "data points", rejected_total_,
                   partial->error_message);
    } else if (!partial.ok()) {
      spdlog::debug("otlp {}: unreadable response: {}", poster.display_url(),
                    partial.status().message());
    }
    SendResult ok = SendResult::Ok();
    ok.rejected = rejected;
    return ok;
  }
  const long code = r.code;
  if (code >= 400 && code < 500 && code != 408 && code != 429) {
    return SendResult::Permanent(std::move(r.error));
  }
  int after = RetryAfterSeconds(r.retry_after);
  return SendResult::Retry(std::move(r.error),
                           std::chrono::seconds(after > 0 ? std::min(after, 3600) : 0));
}

SendResult OtlpSink::Send(const UploadBatch& batch) {
  events_.clear();
  events_.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    EventView e = batch.events[i];
    events_.push_back(
        OtlpStoredEvent{batch.ids[i], e.device_id, e.kind, e.payload_json, e.has_payload, e.ts});
  }
  auto encoded = EncodeOtlpExport(events_, batch.node_id, options_.encoding);
  if (!encoded.ok()) return SendResult::Permanent("otlp: " + encoded.status().message());
  SendResult done = SendResult::Ok();
  if (encoded->log_records > 0) {
    SendResult r = Export(*logs_, encoded->logs_body, true);
    if (!r.ok()) return r;
    done.rejected += r.rejected;
  }
  if (encoded->data_points > 0) {
    SendResult r = Export(*metrics_, encoded->metrics_body, false);
    if (!r.ok()) return r;
    done.rejected += r.rejected;
  }
  return done;
}

}  // namespace

Result<std::unique_ptr<Sink>> MakeOtlpSink(const OtlpSinkOptions& options) {
  std::string base = options.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  for (const std::string& h : options.headers) {
    size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0 || h.find_first_of("\r\n") != std::string::npos) {
      return Status::InvalidArgument("otlp: header must be \"Name: value\", got '" + h + "'");
    }
  }
  HttpPostOptions o;
  o.sink_name = "otlp";
  o.timeout = options.timeout;
  o.max_response_bytes = kMaxResponseBytes;
  o.url = base + "/v1/logs";
  auto logs = MakeHttpPoster(o);
  if (!logs.ok()) return logs.status();
  o.url = base + "/v1/metrics";
  auto metrics = MakeHttpPoster(o);
  if (!metrics.ok()) return metrics.status();
  return std::unique_ptr<Sink>(
      std::make_unique<OtlpSink>(options, std::move(logs.value()), std::move(metrics.value())));
}

}  // namespace cistern
