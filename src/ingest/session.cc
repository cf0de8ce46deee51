#include "ingest/session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

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

Session::Session(Socket&& socket, Router& router, const SessionLimits& limits,
                 SessionTracker& tracker)
    : socket_(std::move(socket)), router_(router), limits_(limits), tracker_(tracker) {}

Session::~Session() { tracker_.Remove(this); }

int64_t Session::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Session::SetDeadline(std::chrono::milliseconds from_now) {
  deadline_ms_.store(NowMs() + from_now.count(), std::memory_order_relaxed);
}

void Session::Start() {
  tracker_.Add(this, weak_from_this());
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->DoReadHeader(); });
}

void Session::Shutdown() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->closing_ = true;
    // No request has been received whole, so none was acknowledged: safe to drop.
    if (self->state_ == State::kReadingHeader) self->DoClose();
  });
}

void Session::Expire() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    int64_t deadline = self->deadline_ms();
    if (deadline != 0 && NowMs() >= deadline) self->DoClose();
  });
}

void Session::Evict() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->state_ == State::kReadingHeader) self->DoClose();
  });
}

void Session::DoReadHeader() {
  if (closing_) return DoClose();
  state_ = State::kReadingHeader;
  idle_since_ms_.store(NowMs(), std::memory_order_relaxed);
  parser_.emplace();
  parser_->body_limit(limits_.max_body_bytes);
  parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  SetDeadline(limits_.header_timeout);
  http::async_read_header(socket_, buffer_, *parser_,
                          beast::bind_front_handler(&Session::OnReadHeader, shared_from_this()));
}

void Session::OnReadHeader(beast::error_code ec, size_t) {
  idle_since_ms_.store(0, std::memory_order_relaxed);
  if (ec) return OnReadError(ec);
  state_ = State::kReadingBody;
  // Refuse an oversized body before reading it: Content-Length says so up front.
  if (auto len = parser_->content_length(); len && *len > limits_.max_body_bytes) {
    return OnReadError(http::error::body_limit);
  }
  SetDeadline(limits_.body_timeout);
  http::async_read(socket_, buffer_, *parser_,
                   beast::bind_front_handler(&Session::OnReadBody, shared_from_this()));
}

void Session::OnReadBody(beast::error_code ec, size_t) {
  if (ec) return OnReadError(ec);
  state_ = State::kHandling;
  deadline_ms_.store(0, std::memory_order_relaxed);  // the store bounds this wait, not the peer
  auto ex = asio::prefer(socket_.get_executor(), asio::execution::outstanding_work.tracked);
  router_.Handle(
      parser_->release(), [ex](std::function<void()> fn) { asio::post(ex, std::move(fn)); },
      [self = shared_from_this()](Response&& res) { self->DoWrite(std::move(res)); });
}

void Session::OnReadError(beast::error_code ec) {
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

void Session::DoWrite(Response&& res) {
  if (state_ == State::kClosing) return;
  state_ = State::kWriting;
  if (closing_) res.keep_alive(false);
  bool close = !res.keep_alive();
  Serialize(res, &out_);
  SetDeadline(limits_.write_timeout);
  asio::async_write(socket_, asio::buffer(out_),
                    beast::bind_front_handler(&Session::OnWrite, shared_from_this(), close));
}

void Session::OnWrite(bool close, beast::error_code ec, size_t) {
  if (ec) return DoClose();
  if (close) return DoLingerClose();
  DoReadHeader();
}

void Session::DoLingerClose() {
  // Closing a socket with unread input makes the kernel send RST, which can destroy the
  // answer we just wrote before the client reads it (typical after an early 413). So: stop
  // sending, then drain what the client still sends, bounded in bytes and time.
  state_ = State::kClosing;
  beast::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) return DoClose();
  linger_budget_ = 4 * limits_.max_body_bytes + (1 << 20);
  SetDeadline(std::chrono::seconds(2));
  DoDrain();
}

void Session::DoDrain() {
  buffer_.clear();
  socket_.async_read_some(buffer_.prepare(64 * 1024),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec || n >= self->linger_budget_) return self->DoClose();
                            self->linger_budget_ -= n;
                            self->DoDrain();
                          });
}

void Session::DoClose() {
  state_ = State::kClosing;
  deadline_ms_.store(0, std::memory_order_relaxed);
  beast::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);  // cancels pending operations; their handlers release the session
}

}  // namespace cistern
