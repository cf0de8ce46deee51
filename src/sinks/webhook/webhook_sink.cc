#include "sinks/webhook/webhook_sink.h"

#include "sinks/http/http_post.h"

namespace cistern {
namespace {

class WebhookSink final : public Sink {
 public:
  WebhookSink(WebhookOptions options, std::unique_ptr<HttpPoster> poster)
      : options_(std::move(options)), poster_(std::move(poster)) {}
  WebhookSink(const WebhookSink&) = delete;
  WebhookSink& operator=(const WebhookSink&) = delete;

  std::string name() const override { return "webhook"; }
  SendResult Send(const UploadBatch& batch) override;

 private:
  // Constant after construction.
  const WebhookOptions options_;
  const std::unique_ptr<HttpPoster> poster_;
  // Per-Send() state, reused to avoid reallocating for every batch.
  std::string body_;
  std::string gzipped_;
};

SendResult WebhookSink::Send(const UploadBatch& batch) {
  body_ = BatchJson(batch);
  const std::string* payload = &body_;
  if (options_.gzip) {
    if (!GzipInto(body_, &gzipped_)) {
      return SendResult::Retry("webhook " + poster_->display_url() + ": gzip failed");
    }
    payload = &gzipped_;
  }
  std::vector<std::string> headers = {"Content-Type: application/json",
                                      "Idempotency-Key: " + BatchKey(batch)};
  if (options_.gzip) headers.push_back("Content-Encoding: gzip");
  if (!options_.authorization.empty()) {
    headers.push_back("Authorization: " + options_.authorization);
  }
  HttpPostResult r = poster_->Post(*payload, headers);
  if (r.ok()) return SendResult::Ok();
  if (r.transport_ok && r.code >= 400 && r.code < 500 && r.code != 408 && r.code != 429) {
    return SendResult::Permanent(std::move(r.error));
  }
  return SendResult::Retry(std::move(r.error));
}

}  // namespace

Result<std::unique_ptr<Sink>> MakeWebhookSink(const WebhookOptions& options) {
  HttpPostOptions o;
  o.sink_name = "webhook";
  o.url = options.url;
  o.timeout = options.timeout;
  auto poster = MakeHttpPoster(o);
  if (!poster.ok()) return poster.status();
  return std::unique_ptr<Sink>(std::make_unique<WebhookSink>(options, std::move(poster.value())));
}

}  // namespace cistern
