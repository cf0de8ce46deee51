#include "sinks/webhook/webhook_sink.h"

#include <curl/curl.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <mutex>
#include <string_view>

namespace cistern {
namespace {

// Response bytes kept for error messages; the rest of a body is read and dropped.
constexpr size_t kBodySnippetBytes = 200;
// Edge devices are CPU-poor and JSON compresses well even at the fastest level.
constexpr int kGzipLevel = Z_BEST_SPEED;

struct CurlEasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;

// libcurl's global state is initialised once per process and kept (curl_global_cleanup is not
// safe while any other thread may use curl).
CURLcode GlobalInit() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return rc;
}

std::string UrlPart(CURLU* u, CURLUPart part) {
  char* s = nullptr;
  if (curl_url_get(u, part, &s, 0) != CURLUE_OK || s == nullptr) return "";
  std::string out(s);
  curl_free(s);
  return out;
}

// Parses and checks `url`; on success sets *display to scheme://host[:port]/path, which is what
// error messages show (no user, password or query string: they may hold secrets).
Status CheckUrl(const std::string& url, std::string* display) {
  CurlUrl u(curl_url());
  if (!u) return Status::Internal("webhook: out of memory");
  if (CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0); rc != CURLUE_OK) {
    return Status::InvalidArgument("webhook: invalid URL '" + url + "': " + curl_url_strerror(rc));
  }
  std::string scheme = UrlPart(u.get(), CURLUPART_SCHEME);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "http" && scheme != "https") {
    return Status::InvalidArgument("webhook: URL must start with http:// or https://, got '" + url +
                                   "'");
  }
  std::string host = UrlPart(u.get(), CURLUPART_HOST);
  if (host.empty()) return Status::InvalidArgument("webhook: URL has no host: '" + url + "'");
  std::string port = UrlPart(u.get(), CURLUPART_PORT);
  *display =
      scheme + "://" + host + (port.empty() ? "" : ":" + port) + UrlPart(u.get(), CURLUPART_PATH);
  return Status::Ok();
}

std::string_view FallbackReason(long code) {
  switch (code) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

// Compresses `in` as one gzip member into *out. REQUIRES: in.size() fits zlib's uInt (4 GiB);
// batches are bounded far below that.
bool GzipInto(std::string_view in, std::string* out) {
  if (in.size() > std::numeric_limits<uInt>::max()) return false;
  z_stream z{};
  if (deflateInit2(&z, kGzipLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return false;
  }
  out->resize(deflateBound(&z, in.size()) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (z.total_out == out->size()) out->resize(out->size() * 2);
    z.next_out = reinterpret_cast<Bytef*>(out->data() + z.total_out);
    z.avail_out = static_cast<uInt>(out->size() - z.total_out);
    rc = deflate(&z, Z_FINISH);
  }
  out->resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END;
}

class WebhookSink final : public Sink {
 public:
  WebhookSink(WebhookOptions options, std::string display_url, CurlEasy curl)
      : options_(std::move(options)),
        display_url_(std::move(display_url)),
        curl_(std::move(curl)) {}
  WebhookSink(const WebhookSink&) = delete;
  WebhookSink& operator=(const WebhookSink&) = delete;

  Status Configure();
  std::string name() const override { return "webhook"; }
  SendResult Send(const UploadBatch& batch) override;

 private:
  static size_t OnBody(char* data, size_t size, size_t n, void* self);
  static size_t OnHeader(char* data, size_t size, size_t n, void* self);
  std::string Describe(long code) const;

  // Constant after construction.
  const WebhookOptions options_;
  const std::string display_url_;
  const CurlEasy curl_;
  // Per-Send() state, reused to avoid reallocating for every batch.
  std::string body_;
  std::string gzipped_;
  std::string response_snippet_;
  std::string status_line_;
  char error_buffer_[CURL_ERROR_SIZE] = {};
};

Status WebhookSink::Configure() {
  CURL* h = curl_.get();
  const long timeout_ms = static_cast<long>(options_.timeout.count());
  bool ok = curl_easy_setopt(h, CURLOPT_URL, options_.url.c_str()) == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_POST, 1L) == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_USERAGENT, "cistern") == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK &&
            // Signals are not safe in a multi-threaded process (and we resolve no names by alarm).
            curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer_) == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WebhookSink::OnBody) == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_WRITEDATA, this) == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &WebhookSink::OnHeader) == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_HEADERDATA, this) == CURLE_OK;
  if (!ok) return Status::Internal("webhook: libcurl rejected an option (libcurl too old?)");
  return Status::Ok();
}

size_t WebhookSink::OnBody(char* data, size_t size, size_t n, void* self) {
  auto* sink = static_cast<WebhookSink*>(self);
  size_t bytes = size * n;
  size_t room =
      kBodySnippetBytes + 1 - std::min(sink->response_snippet_.size(), kBodySnippetBytes + 1);
  sink->response_snippet_.append(data, std::min(bytes, room));
  return bytes;  // read and drop the rest
}

size_t WebhookSink::OnHeader(char* data, size_t size, size_t n, void* self) {
  auto* sink = static_cast<WebhookSink*>(self);
  std::string_view line(data, size * n);
  // Every response (an interim 100 Continue, too) starts with a status line; keep the last.
  if (line.starts_with("HTTP/")) {
    sink->status_line_.assign(line);
    sink->response_snippet_.clear();
  }
  return size * n;
}

// "503 Service Unavailable: <body snippet>"
std::string WebhookSink::Describe(long code) const {
  std::string out = std::to_string(code);
  // Status line "HTTP/1.1 503 Service Unavailable\r\n": the reason follows the second space.
  std::string_view reason;
  std::string_view line(status_line_);
  if (size_t sp = line.find(' '); sp != std::string_view::npos) {
    if (size_t sp2 = line.find(' ', sp + 1); sp2 != std::string_view::npos) {
      reason = line.substr(sp2 + 1);
      while (!reason.empty() && std::isspace(static_cast<unsigned char>(reason.back()))) {
        reason.remove_suffix(1);
      }
    }
  }
  if (reason.empty()) reason = FallbackReason(code);
  if (!reason.empty()) (out += ' ').append(reason);
  std::string snippet;
  for (char c : std::string_view(response_snippet_).substr(0, kBodySnippetBytes)) {
    snippet += std::iscntrl(static_cast<unsigned char>(c)) ? ' ' : c;
  }
  while (!snippet.empty() && snippet.back() == ' ') snippet.pop_back();
  if (!snippet.empty()) {
    out += ": " + snippet;
    if (response_snippet_.size() > kBodySnippetBytes) out += "...";
  }
  return out;
}

SendResult WebhookSink::Send(const UploadBatch& batch) {
  CURL* h = curl_.get();
  const std::string where = "webhook " + display_url_ + ": ";
  body_ = BatchJson(batch);
  const std::string* payload = &body_;
  if (options_.gzip) {
    if (!GzipInto(body_, &gzipped_)) return SendResult::Retry(where + "gzip failed");
    payload = &gzipped_;
  }

  curl_slist* raw = nullptr;
  auto add = [&raw](const std::string& line) {
    curl_slist* next = curl_slist_append(raw, line.c_str());
    if (next != nullptr) raw = next;
    return next != nullptr;
  };
  bool headers_ok =
      add("Content-Type: application/json") &&
      // curl would wait for "100 Continue" before a large body; we don't need it.
      add("Expect:") && add("Idempotency-Key: " + BatchKey(batch)) &&
      (!options_.gzip || add("Content-Encoding: gzip")) &&
      (options_.authorization.empty() || add("Authorization: " + options_.authorization));
  CurlSlist headers(raw);
  if (!headers_ok) return SendResult::Retry(where + "out of memory building headers");

  response_snippet_.clear();
  status_line_.clear();
  error_buffer_[0] = '\0';
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload->data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload->size()));
  CURLcode rc = curl_easy_perform(h);
  // The list dies with this call; don't leave curl holding a dangling pointer.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, nullptr);

  if (rc != CURLE_OK) {
    std::string msg = where + curl_easy_strerror(rc);
    if (error_buffer_[0] != '\0') msg += std::string(" (") + error_buffer_ + ")";
    return SendResult::Retry(std::move(msg));
  }
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  if (code >= 200 && code < 300) return SendResult::Ok();
  std::string msg = where + Describe(code);
  if (code >= 400 && code < 500 && code != 408 && code != 429) {
    return SendResult::Permanent(std::move(msg));
  }
  return SendResult::Retry(std::move(msg));
}

}  // namespace

Result<std::unique_ptr<Sink>> MakeWebhookSink(const WebhookOptions& options) {
  if (options.timeout.count() <= 0) {
    return Status::InvalidArgument("webhook: timeout must be positive");
  }
  if (CURLcode rc = GlobalInit(); rc != CURLE_OK) {
    return Status::Internal(std::string("webhook: curl_global_init: ") + curl_easy_strerror(rc));
  }
  std::string display;
  if (Status s = CheckUrl(options.url, &display); !s.ok()) return s;
  CurlEasy curl(curl_easy_init());
  if (!curl) return Status::Internal("webhook: curl_easy_init failed");
  auto sink = std::make_unique<WebhookSink>(options, std::move(display), std::move(curl));
  if (Status s = sink->Configure(); !s.ok()) return s;
  return std::unique_ptr<Sink>(std::move(sink));
}

}  // namespace cistern
