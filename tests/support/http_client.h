// HttpClient: a real HTTP/1.1 client over a real loopback socket (Beast, synchronous), with
// keep-alive, for integration tests. Not thread-safe: one client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cistern::testing {

struct HttpResult {
  int status = 0;  // 0 = transport error (see error)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;                           // transport error, if any
  bool ok() const { return status != 0; }
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();

  // Sends one request on the kept-alive connection (reconnecting when needed) and reads the
  // answer. `headers` are extra header lines as name -> value.
  HttpResult Request(const std::string& method, const std::string& target,
                     const std::string& body = "",
                     const std::map<std::string, std::string>& headers = {});
  HttpResult Post(const std::string& target, const std::string& body,
                  const std::map<std::string, std::string>& headers = {}) {
    return Request("POST", target, body, headers);
  }
  HttpResult Get(const std::string& target) { return Request("GET", target); }

  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes `raw` bytes to a fresh connection, half-closes nothing, and reads until the peer
// closes or `timeout` passes. Returns what was read. For malformed-request tests.
std::string RawExchange(uint16_t port, const std::string& raw,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5));

// gzip-compresses `data` (for Content-Encoding tests).
std::string Gzip(const std::string& data);

// Extracts the integers of the "ids" array from a 200 answer ({"accepted":N,"ids":[...]}).
std::vector<int64_t> ParseIds(const std::string& body);

}  // namespace cistern::testing
