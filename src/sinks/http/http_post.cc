#include "sinks/http/http_post.h"

#include <curl/curl.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <mutex>

namespace cistern {
namespace {

// Response bytes shown in error messages.
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
Status CheckUrl(const std::string& name, const std::string& url, std::string* display) {
  CurlUrl u(curl_url());
  if (!u) return Status::Internal(name + ": out of memory");
  if (CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0); rc != CURLUE_OK) {
    return Status::InvalidArgument(name + ": invalid URL '" + url + "': " + curl_url_strerror(rc));
  }
  std::string scheme = UrlPart(u.get(), CURLUPART_SCHEME);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "http" && scheme != "https") {
    return Status::InvalidArgument(name + ": URL must start with http:// or https://, got '" + url +
                                   "'");
  }
  std::string host = UrlPart(u.get(), CURLUPART_HOST);
  if (host.empty()) return Status::InvalidArgument(name + ": URL has no host: '" + url + "'");
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

class CurlPoster final : public HttpPoster {
 public:
  CurlPoster(HttpPostOptions options, std::string display_url, CurlEasy curl)
      : options_(std::move(options)),
        display_url_(std::move(display_url)),
        curl_(std::move(curl)) {}
  CurlPoster(const CurlPoster&) = delete;
  CurlPoster& operator=(const CurlPoster&) = delete;

  Status Configure();
  HttpPostResult Post(std::string_view body, const std::vector<std::string>& headers) override;
  const std::string& display_url() const override { return display_url_; }

 private:
  static size_t OnBody(char* data, size_t size, size_t n, void* self);
  static size_t OnHeader(char* data, size_t size, size_t n, void* self);
  std::string Describe(long code) const;

  // Constant after construction.
  const HttpPostOptions options_;
  const std::string display_url_;
  const CurlEasy curl_;
  // Per-Post() state, reused to avoid reallocating for every batch.
  std::string response_;
  bool response_truncated_ = false;
  std::string status_line_;
  std::string retry_after_;
  char error_buffer_[CURL_ERROR_SIZE] = {};
};

Status CurlPoster::Configure() {
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
            curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &CurlPoster::OnBody) == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_WRITEDATA, this) == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &CurlPoster::OnHeader) == CURLE_OK &&
            curl_easy_setopt(h, CURLOPT_HEADERDATA, this) == CURLE_OK;
  if (!ok) {
    return Status::Internal(options_.sink_name + ": libcurl rejected an option (libcurl too old?)");
  }
  return Status::Ok();
}

size_t CurlPoster::OnBody(char* data, size_t size, size_t n, void* self) {
  auto* p = static_cast<CurlPoster*>(self);
  size_t bytes = size * n;
  size_t limit = std::max(p->options_.max_response_bytes, kBodySnippetBytes);
  size_t room = limit - std::min(p->response_.size(), limit);
  if (bytes > room) p->response_truncated_ = true;
  p->response_.append(data, std::min(bytes, room));
  return bytes;  // read and drop the rest
}

size_t CurlPoster::OnHeader(char* data, size_t size, size_t n, void* self) {
  auto* p = static_cast<CurlPoster*>(self);
  std::string_view line(data, size * n);
  // Every response (an interim 100 Continue, too) starts with a status line; keep the last.
  if (line.starts_with("HTTP/")) {
    p->status_line_.assign(line);
    p->response_.clear();
    p->response_truncated_ = false;
    p->retry_after_.clear();
  } else if (line.size() > 12 &&
             std::equal(line.begin(), line.begin() + 12, "retry-after:", [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
             })) {
    std::string_view v = line.substr(12);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    p->retry_after_.assign(v);
  }
  return size * n;
}

// "503 Service Unavailable: <body snippet>"
std::string CurlPoster::Describe(long code) const {
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
  for (char c : std::string_view(response_).substr(0, kBodySnippetBytes)) {
    snippet += std::iscntrl(static_cast<unsigned char>(c)) ? ' ' : c;
  }
  while (!snippet.empty() && snippet.back() == ' ') snippet.pop_back();
  if (!snippet.empty()) {
    out += ": " + snippet;
    if (response_.size() > kBodySnippetBytes || response_truncated_) out += "...";
  }
  return out;
}

HttpPostResult CurlPoster::Post(std::string_view body, const std::vector<std::string>& headers) {
  CURL* h = curl_.get();
  const std::string where = options_.sink_name + " " + display_url_ + ": ";
  HttpPostResult result;

  curl_slist* raw = nullptr;
  auto add = [&raw](const std::string& line) {
    curl_slist* next = curl_slist_append(raw, line.c_str());
    if (next != nullptr) raw = next;
    return next != nullptr;
  };
  // curl would wait for "100 Continue" before a large body; we don't need it.
  bool headers_ok = add("Expect:");
  for (const std::string& line : headers) headers_ok = headers_ok && add(line);
  CurlSlist list(raw);
  if (!headers_ok) {
    result.error = where + "out of memory building headers";
    return result;
  }

  response_.clear();
  response_truncated_ = false;
  status_line_.clear();
  retry_after_.clear();
  error_buffer_[0] = '\0';
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  CURLcode rc = curl_easy_perform(h);
  // The list dies with this call; don't leave curl holding a dangling pointer.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, nullptr);

  if (rc != CURLE_OK) {
    result.error = where + curl_easy_strerror(rc);
    if (error_buffer_[0] != '\0') result.error += std::string(" (") + error_buffer_ + ")";
    return result;
  }
  result.transport_ok = true;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &result.code);
  result.body = response_.substr(0, options_.max_response_bytes);
  result.retry_after = retry_after_;
  if (!result.ok()) result.error = where + Describe(result.code);
  return result;
}

}  // namespace

// REQUIRES: in.size() fits zlib's uInt (4 GiB); batches are bounded far below that.
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

int RetryAfterSeconds(std::string_view value) {
  int seconds = -1;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return -1;
  return seconds;
}

Result<std::unique_ptr<HttpPoster>> MakeHttpPoster(const HttpPostOptions& options) {
  const std::string& name = options.sink_name;
  if (options.timeout.count() <= 0) {
    return Status::InvalidArgument(name + ": timeout must be positive");
  }
  if (CURLcode rc = GlobalInit(); rc != CURLE_OK) {
    return Status::Internal(name + ": curl_global_init: " + curl_easy_strerror(rc));
  }
  std::string display;
  if (Status s = CheckUrl(name, options.url, &display); !s.ok()) return s;
  CurlEasy curl(curl_easy_init());
  if (!curl) return Status::Internal(name + ": curl_easy_init failed");
  auto poster = std::make_unique<CurlPoster>(options, std::move(display), std::move(curl));
  if (Status s = poster->Configure(); !s.ok()) return s;
  return std::unique_ptr<HttpPoster>(std::move(poster));
}

}  // namespace cistern
