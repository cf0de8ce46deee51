#include "ingest/session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "ingest/router.h"
#include "ingest/session_tracker.h"

namespace cistern {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// Serializes a response into `out` (status line, fields, blank line, body) so it goes out
// in one write. Beast has already set Connection and Content-Length on `res`.
void Serialize(const Response& res, std::string* out) {
  out->clear();
  out->append(res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out->append(std::to_string(res.result_int()));
  out->push_back(' ');
  auto reason = res.reason();
  out->append(reason.data(), reason.size());
  out->append("\r\n");
  for (const auto& field : res.base()) {
    out->append(field.name_string().data(), field.name_string().size());
    out->append(": ");
    out->append(field.value().data(), field.value().size());
    out->append("\r\n");
  }
  out->append("\r\n");
  out->append(res.body());
}

}  // namespace

template <class Stream>
BasicSession<Stream>::BasicSession(Stream&& stream, Router& router, const SessionLimits& limits,
                                   SessionTracker& tracker)
    : stream_(std::move(stream)), router_(router), limits_(limits), tracker_(tracker) {}

template <class Stream>
BasicSession<Stream>::~BasicSession() {
  tracker_.Remove(this);
}

int64_t SessionBase::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

template <class Stream>
void BasicSession<Stream>::SetDeadline(std::chrono::milliseconds from_now) {
  deadline_ms_.store(NowMs() + from_now.count(), std::memory_order_relaxed);
}

template <class Stream>
void BasicSession<Stream>::Start() {
  tracker_.Add(this, this->weak_from_this());
  asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
    if constexpr (kTls) {
      // The handshake counts against the header timeout (a client that never finishes it
      // is cut off like one that never finishes its header).
      self->SetDeadline(self->limits_.header_timeout);
      self->idle_since_ms_.store(NowMs(), std::memory_order_relaxed);
      self->stream_.async_handshake(asio::ssl::stream_base::server, [self](beast::error_code ec) {
        if (ec) return self->DoClose();
        self->DoReadHeader();
      });
    } else {
      self->DoReadHeader();
    }
  });
}

template <class Stream>
void BasicSession<Stream>::Shutdown() {
  asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
    self->closing_ = true;
    // No request has been received whole, so none was acknowledged: safe to drop.
    if (self->state_ == State::kReadingHeader || self->state_ == State::kHandshake) {
      self->DoClose();
    }
  });
}

template <class Stream>
void BasicSession<Stream>::Expire() {
  asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
    int64_t deadline = self->deadline_ms();
    if (deadline != 0 && NowMs() >= deadline) self->DoClose();
  });
}

template <class Stream>
void BasicSession<Stream>::Evict() {
  asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
    if (self->state_ == State::kReadingHeader || self->state_ == State::kHandshake ||
        self->lingering_) {
      self->DoClose();
    }
  });
}

template <class Stream>
void BasicSession<Stream>::DoReadHeader() {
  if (closing_) return DoClose();
  state_ = State::kReadingHeader;
  idle_since_ms_.store(NowMs(), std::memory_order_relaxed);
  parser_.emplace();
  parser_->body_limit(limits_.max_body_bytes);
  parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  SetDeadline(limits_.header_timeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      beast::bind_front_handler(&BasicSession::OnReadHeader, this->shared_from_this()));
}

template <class Stream>
void BasicSession<Stream>::OnReadHeader(beast::error_code ec, size_t) {
  idle_since_ms_.store(0, std::memory_order_relaxed);
  // Closed meanwhile (shutdown, eviction, deadline) although the read completed: the request
  // must not be stored, since its answer could no longer be delivered.
  if (state_ == State::kClosing) return;
  if (ec) return OnReadError(ec);
  state_ = State::kReadingBody;
  // Framing, Host and token are judged on the header: a client without the token is answered
  // 401 and cut off before a byte of its body is read or buffered (docs/security.md).
  if (auto refused = router_.Screen(parser_->get(), parser_->chunked())) {
    return DoWrite(std::move(*refused));
  }
  // Refuse an oversized body before reading it: Content-Length says so up front.
  if (auto len = parser_->content_length(); len && *len > limits_.max_body_bytes) {
    return OnReadError(http::error::body_limit);
  }
  header_fields_ = static_cast<size_t>(
      std::distance(parser_->get().base().begin(), parser_->get().base().end()));
  SetDeadline(limits_.body_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&BasicSession::OnReadBody, this->shared_from_this()));
}

template <class Stream>
void BasicSession<Stream>::OnReadBody(beast::error_code ec, size_t) {
  if (state_ == State::kClosing) return;  // see OnReadHeader
  if (ec) return OnReadError(ec);
  // Beast appends a chunked body's trailer fields to the header. They were not screened and
  // must not count as header fields (an Authorization sent only in the trailer authenticated
  // a POST, issue 15.4): drop them (RFC 9110 6.5.1 lets a recipient discard trailers).
  if (parser_->chunked()) {
    auto& fields = parser_->get().base();
    auto it = fields.begin();
    std::advance(it,
                 std::min(header_fields_, static_cast<size_t>(std::distance(it, fields.end()))));
    while (it != fields.end()) it = fields.erase(it);
  }
  state_ = State::kHandling;
  deadline_ms_.store(0, std::memory_order_relaxed);  // the store bounds this wait, not the peer
  auto ex = asio::prefer(stream_.get_executor(), asio::execution::outstanding_work.tracked);
  router_.Handle(
      parser_->release(), [ex](std::function<void()> fn) { asio::post(ex, std::move(fn)); },
      [self = this->shared_from_this()](Response&& res) { self->DoWrite(std::move(res)); });
}

template <class Stream>
void BasicSession<Stream>::OnReadError(beast::error_code ec) {
  if (state_ == State::kClosing || ec == http::error::end_of_stream ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
      ec == asio::error::eof || ec == asio::error::bad_descriptor) {
    return DoClose();
  }
  // Malformed or oversized input: answer once with Connection: close, then close.
  const unsigned version = 11;
  if (ec == http::error::body_limit) {
    return DoWrite(router_.Error(
        http::status::payload_too_large,
        "body is over the limit of " + std::to_string(limits_.max_body_bytes) + " bytes", version,
        false));
  }
  if (ec == http::error::header_limit) {
    return DoWrite(router_.Error(http::status::request_header_fields_too_large,
                                 "request header is too large", version, false));
  }
  DoWrite(router_.Error(http::status::bad_request, "malformed HTTP request: " + ec.message(),
                        version, false));
}

template <class Stream>
void BasicSession<Stream>::DoWrite(Response&& res) {
  if (state_ == State::kClosing) return;
  state_ = State::kWriting;
  if (closing_) res.keep_alive(false);
  bool close = !res.keep_alive();
  Serialize(res, &out_);
  SetDeadline(limits_.write_timeout);
  asio::async_write(
      stream_, asio::buffer(out_),
      beast::bind_front_handler(&BasicSession::OnWrite, this->shared_from_this(), close));
}

template <class Stream>
void BasicSession<Stream>::OnWrite(bool close, beast::error_code ec, size_t) {
  if (ec) return DoClose();
  if (close) return DoLingerClose();
  DoReadHeader();
}

template <class Stream>
void BasicSession<Stream>::DoLingerClose() {
  // Closing a socket with unread input makes the kernel send RST, which can destroy the
  // answer we just wrote before the client reads it (typical after an early 413). So: stop
  // sending, then drain what the client still sends, bounded in bytes and time.
  state_ = State::kClosing;
  lingering_ = true;
  // A lingering connection holds no request: at the connection limit it makes room first.
  idle_since_ms_.store(NowMs(), std::memory_order_relaxed);
  // Over TLS the bytes still coming are records we would have to decrypt: just close.
  if constexpr (kTls) return DoClose();
  beast::error_code ec;
  beast::get_lowest_layer(stream_).shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) return DoClose();
  linger_budget_ = 4 * limits_.max_body_bytes + (1 << 20);
  SetDeadline(std::chrono::seconds(2));
  DoDrain();
}

template <class Stream>
void BasicSession<Stream>::DoDrain() {
  buffer_.clear();
  beast::get_lowest_layer(stream_).async_read_some(
      buffer_.prepare(64 * 1024),
      [self = this->shared_from_this()](beast::error_code ec, size_t n) {
        if (ec || n >= self->linger_budget_) return self->DoClose();
        self->linger_budget_ -= n;
        self->DoDrain();
      });
}

template <class Stream>
void BasicSession<Stream>::DoClose() {
  state_ = State::kClosing;
  lingering_ = false;
  idle_since_ms_.store(0, std::memory_order_relaxed);
  deadline_ms_.store(0, std::memory_order_relaxed);
  beast::error_code ec;
  beast::get_lowest_layer(stream_).shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  beast::get_lowest_layer(stream_).close(
      ec);  // cancels pending operations; their handlers release the session
}

template class BasicSession<SessionSocket>;
template class BasicSession<TlsSessionStream>;

}  // namespace cistern
