// Session: one HTTP/1.1 connection, in the shape of Beast's async server example: a
// do_x/on_x pair per step, all on the connection's strand, kept alive by its pending
// operation (or by the store's pending completion while a POST is being committed).
//
// Bounds (docs/api.md, limits at the edge): a fresh parser per message with body_limit (over it:
// 413 and the connection closes; a Content-Length over the limit is refused before the body is
// read) and a header limit; a deadline before every read (header: also the keep-alive idle limit;
// body) and every write; one request in flight per connection. The header is screened
// (Router::Screen: framing, Host, token) before a byte of body is read; a refused request is
// answered and the connection closed (docs/security.md).
//
// Deadlines are not one Asio timer per operation (a timer arm + cancel per request cost more
// than the rest of the request); each session stores its deadline and the server's sweep
// (SessionTracker::Sweep, a few times a second) closes sessions whose deadline passed.
//
// Thread-safety: all members except the atomics are touched only on the strand. Shutdown(),
// Expire() and Evict() may be called from any thread; they post to the strand.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "ingest/http_types.h"
#include "ingest/server_options.h"
#include "ingest/session_base.h"
#include "ingest/session_socket.h"

namespace cistern {

class Router;
class SessionTracker;

// Stream is SessionSocket (plain HTTP) or TlsSessionStream (HTTPS: a TLS handshake, bounded
// by the header timeout, comes first). Instantiated for those two only (session.cc).
template <class Stream>
class BasicSession : public SessionBase, public std::enable_shared_from_this<BasicSession<Stream>> {
 public:
  BasicSession(Stream&& stream, Router& router, const SessionLimits& limits,
               SessionTracker& tracker);
  ~BasicSession() override;

  void Start();
  void Shutdown() override;
  void Expire() override;
  void Evict() override;

 private:
  enum class State { kHandshake, kReadingHeader, kReadingBody, kHandling, kWriting, kClosing };
  static constexpr bool kTls = !std::is_same_v<Stream, SessionSocket>;

  void SetDeadline(std::chrono::milliseconds from_now);
  void DoReadHeader();
  void OnReadHeader(boost::beast::error_code ec, size_t bytes);
  void OnReadBody(boost::beast::error_code ec, size_t bytes);
  void OnReadError(boost::beast::error_code ec);
  void DoWrite(Response&& res);
  void OnWrite(bool close, boost::beast::error_code ec, size_t bytes);
  void DoLingerClose();
  void DoDrain();
  void DoClose();

  Stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string out_;  // the serialized response being written; reused across requests
  Router& router_;
  const SessionLimits& limits_;
  SessionTracker& tracker_;
  State state_ = kTls ? State::kHandshake : State::kReadingHeader;
  bool lingering_ = false;    // answered with Connection: close, draining the client's rest
  size_t header_fields_ = 0;  // fields of the header, before any chunked trailer
  bool closing_ = false;
  size_t linger_budget_ = 0;
};

using Session = BasicSession<SessionSocket>;
using TlsSession = BasicSession<TlsSessionStream>;

}  // namespace cistern
