#include "ingest/session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "ingest/session_tracker.h"

namespace cistern {

namespace asio = boost::asio;
namespace beast = boost::beast;

Session::Session(asio::ip::tcp::socket&& socket, Router& router, const SessionLimits& limits,
                 SessionTracker& tracker)
    : stream_(std::move(socket)), router_(router), limits_(limits), tracker_(tracker) {}

Session::~Session() { tracker_.Remove(this); }

void Session::Start() {
  tracker_.Add(this, weak_from_this());
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->DoReadHeader(); });
}

void Session::Shutdown() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    self->closing_ = true;
    if (self->state_ == State::kReadingHeader) {
      // No request has been received whole, so none was acknowledged: safe to drop.
      beast::error_code ec;
      self->stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      self->stream_.cancel();
    }
  });
}

void Session::DoReadHeader() {
  if (closing_) return DoClose();
  state_ = State::kReadingHeader;
  parser_.emplace();
  parser_->body_limit(limits_.max_body_bytes);
  parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  stream_.expires_after(limits_.header_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&Session::OnReadHeader, shared_from_this()));
}

void Session::OnReadHeader(beast::error_code ec, size_t) {
  if (ec) return OnReadError(ec);
  state_ = State::kReadingBody;
  // Refuse an oversized body before reading it: Content-Length says so up front.
  if (auto len = parser_->content_length(); len && *len > limits_.max_body_bytes) {
    return OnReadError(http::error::body_limit);
  }
  stream_.expires_after(limits_.body_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&Session::OnReadBody, shared_from_this()));
}

void Session::OnReadBody(beast::error_code ec, size_t) {
  if (ec) return OnReadError(ec);
  state_ = State::kHandling;
  stream_.expires_never();  // the store bounds the wait; the socket is not being read
  Request req = parser_->release();
  auto ex = asio::prefer(stream_.get_executor(), asio::execution::outstanding_work.tracked);
  router_.Handle(
      std::move(req), [ex](std::function<void()> fn) { asio::post(ex, std::move(fn)); },
      [self = shared_from_this()](Response&& res) { self->DoWrite(std::move(res)); });
}

void Session::OnReadError(beast::error_code ec) {
  if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
      ec == beast::error::timeout || ec == asio::error::connection_reset ||
      ec == asio::error::eof) {
    return DoClose();
  }
  // Malformed or oversized input: answer once with Connection: close, then close.
  const unsigned version = 11;
  if (ec == http::error::body_limit) {
    return DoWrite(router_.Error(
        http::status::payload_too_large,
        "body is over the limit of " + std::to_string(limits_.max_body_bytes) + " bytes",
        version, false));
  }
  if (ec == http::error::header_limit) {
    return DoWrite(router_.Error(http::status::request_header_fields_too_large,
                                 "request header is too large", version, false));
  }
  DoWrite(router_.Error(http::status::bad_request, "malformed HTTP request: " + ec.message(),
                        version, false));
}

void Session::DoWrite(Response&& res) {
  state_ = State::kWriting;
  if (closing_) res.keep_alive(false);
  bool close = !res.keep_alive();
  response_ = std::make_shared<Response>(std::move(res));
  stream_.expires_after(limits_.write_timeout);
  http::async_write(stream_, *response_,
                    beast::bind_front_handler(&Session::OnWrite, shared_from_this(), close));
}

void Session::OnWrite(bool close, beast::error_code ec, size_t) {
  response_.reset();
  if (ec) return DoClose();
  if (close) return DoLingerClose();
  DoReadHeader();
}

void Session::DoLingerClose() {
  // Closing a socket with unread input makes the kernel send RST, which can destroy the
  // answer we just wrote before the client reads it (typical after an early 413). So: stop
  // sending, then drain what the client still sends, bounded in bytes and time.
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) return DoClose();
  linger_budget_ = 4 * limits_.max_body_bytes + (1 << 20);
  stream_.expires_after(std::chrono::seconds(2));
  DoDrain();
}

void Session::DoDrain() {
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(64 * 1024),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec || n >= self->linger_budget_) return self->DoClose();
                            self->linger_budget_ -= n;
                            self->DoDrain();
                          });
}

void Session::DoClose() {
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  stream_.socket().close(ec);
}

}  // namespace cistern
