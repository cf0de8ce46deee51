// Session: one HTTP/1.1 connection, in the shape of Beast's async server example: a
// do_x/on_x pair per step, all on the connection's strand, kept alive by its pending
// operation (or by the store's pending completion while a POST is being committed).
//
// Bounds (STYLE.md habit 7): a fresh parser per message with body_limit (over it: 413 and the
// connection closes, the body is never buffered whole) and a header limit; a timeout before
// every read (header: also the keep-alive idle limit; body) and every write; one request in
// flight per connection (no pipelining beyond what the socket buffers).
//
// Thread-safety: all members are touched only on the strand. Shutdown() may be called from
// any thread; it posts to the strand.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <memory>
#include <optional>

#include "ingest/http_types.h"
#include "ingest/router.h"

namespace cistern {

struct SessionLimits {
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds header_timeout{30'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
};

class SessionTracker;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket&& socket, Router& router, const SessionLimits& limits,
          SessionTracker& tracker);
  ~Session();

  void Start();
  // Graceful stop: an idle connection (waiting for a request) closes now; one with a request
  // in progress finishes it, answers with Connection: close, then closes.
  void Shutdown();

 private:
  enum class State { kReadingHeader, kReadingBody, kHandling, kWriting };

  void DoReadHeader();
  void OnReadHeader(boost::beast::error_code ec, size_t bytes);
  void OnReadBody(boost::beast::error_code ec, size_t bytes);
  void OnReadError(boost::beast::error_code ec);
  void DoWrite(Response&& res);
  void OnWrite(bool close, boost::beast::error_code ec, size_t bytes);
  void DoLingerClose();
  void DoDrain();
  void DoClose();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> response_;  // kept alive across async_write
  Router& router_;
  const SessionLimits& limits_;
  SessionTracker& tracker_;
  State state_ = State::kReadingHeader;
  bool closing_ = false;
  size_t linger_budget_ = 0;
};

}  // namespace cistern
