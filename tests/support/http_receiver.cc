#include "support/http_receiver.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "common/thread_name.h"
#include "event/gzip.h"

namespace cistern::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpReceiver::Impl {
  explicit Impl(HttpReceiverOptions o) : options(o) {}

  // Reads the request into a Received, asks the responder, records it; returns the answer.
  http::response<http::string_body> Handle(http::request<http::string_body>&& req,
                                           uint64_t connection);
  void DoAccept();

  const HttpReceiverOptions options;
  asio::io_context hold_ioc;          // only owns `hold`
  std::unique_ptr<tcp::socket> hold;  // GoDown(): the port, bound but not listening

  // Protected by mu.
  mutable std::mutex mu;
  mutable std::condition_variable cv;  // signalled when a request is recorded
  std::vector<Received> requests;
  Responder responder;
  std::string response_body;
  uint64_t connections = 0;
  uint16_t port = 0;
  bool running = false;

  // Owned by the thread calling Start()/Stop(); the acceptor is used by its own handlers only
  // while the io threads run (one accept pending at a time).
  std::unique_ptr<asio::io_context> ioc;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
};

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One connection: read a request, answer it, repeat while keep-alive. Kept alive by its
// pending operation; runs on its own strand. Destroyed (socket closed) when the io_context
// goes away in Stop().
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, HttpReceiver::Impl* owner, uint64_t id)
      : stream_(std::move(socket)), owner_(owner), id_(id) {}

  void Run() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::DoRead, shared_from_this()));
  }

 private:
  void DoRead() {
    parser_.emplace();  // a fresh parser (and body limit) for every message
    parser_->body_limit(owner_->options.body_limit);
    stream_.expires_after(owner_->options.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream) return Close();
    if (ec) return;  // reset, idle timeout, body too large: drop the connection
    response_ = owner_->Handle(parser_->release(), id_);
    stream_.expires_after(owner_->options.idle_timeout);
    http::async_write(
        stream_, response_,
        beast::bind_front_handler(&Session::OnWrite, shared_from_this(), response_.need_eof()));
  }

  void OnWrite(bool close, beast::error_code ec, size_t) {
    if (ec) return;
    if (close) return Close();
    DoRead();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  HttpReceiver::Impl* const owner_;
  const uint64_t id_;
};

}  // namespace

http::response<http::string_body> HttpReceiver::Impl::Handle(http::request<http::string_body>&& req,
                                                             uint64_t connection) {
  Received r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  for (const auto& f : req) r.headers[Lower(f.name_string())] = std::string(f.value());
  r.wire_bytes = req.body().size();
  r.connection = connection;
  if (Lower(r.Header("content-encoding")) == "gzip") {
    std::string plain;
    if (Gunzip(req.body(), size_t{1} << 30, &plain).ok()) {
      r.body = std::move(plain);
    } else {
      r.body = std::move(req.body());
      r.decode_error = true;
    }
  } else {
    r.body = std::move(req.body());
  }

  Responder decide;
  std::string body;
  {
    std::lock_guard lock(mu);
    decide = responder;
    body = response_body;
  }
  int status = 200;
  if (r.decode_error) {
    status = 400;
  } else if (decide) {
    try {
      status = decide(r);
    } catch (const std::exception&) {
      status = 500;
    }
  }
  if (status < 100 || status > 999) status = 500;
  r.status = status;
  if (!options.keep_bodies) r.body.clear();
  {
    std::lock_guard lock(mu);
    requests.push_back(std::move(r));
  }
  cv.notify_all();

  http::response<http::string_body> res{static_cast<http::status>(status), req.version()};
  res.set(http::field::server, "cistern-test-receiver");
  res.keep_alive(req.keep_alive());
  if (status != 204 && status != 304 && status >= 200) {
    if (body.empty()) {
      body = std::to_string(status) + " " + std::string(http::obsolete_reason(res.result()));
    }
    res.set(http::field::content_type, "text/plain");
    res.body() = std::move(body);
  }
  res.prepare_payload();
  return res;
}

void HttpReceiver::Impl::DoAccept() {
  acceptor->async_accept(asio::make_strand(*ioc), [this](beast::error_code ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (!ec) {
      uint64_t id;
      {
        std::lock_guard lock(mu);
        id = ++connections;
      }
      std::make_shared<Session>(std::move(s), this, id)->Run();
    }
    DoAccept();
  });
}

HttpReceiver::HttpReceiver(HttpReceiverOptions options) : impl_(std::make_unique<Impl>(options)) {}

HttpReceiver::~HttpReceiver() { Stop(); }

void HttpReceiver::GoDown() {
  Stop();
  Impl& m = *impl_;
  m.hold = std::make_unique<tcp::socket>(m.hold_ioc);
  beast::error_code ec;
  m.hold->open(tcp::v4(), ec);
  m.hold->set_option(asio::socket_base::reuse_address(true), ec);
  m.hold->bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()), ec);
}

Status HttpReceiver::Start(uint16_t port) {
  Impl& m = *impl_;
  if (running()) return Status::Internal("http receiver: already running");
  m.hold.reset();  // a port held by GoDown() is released just before we bind it again
  int threads = std::max(1, m.options.threads);
  m.ioc = std::make_unique<asio::io_context>(threads);
  m.acceptor = std::make_unique<tcp::acceptor>(*m.ioc);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  beast::error_code ec;
  m.acceptor->open(ep.protocol(), ec);
  if (!ec) m.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor->bind(ep, ec);
  if (!ec) m.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  uint16_t bound = 0;
  if (!ec) bound = m.acceptor->local_endpoint(ec).port();
  if (ec) {
    m.acceptor.reset();
    m.ioc.reset();
    return Status::Unavailable("http receiver: listen on 127.0.0.1:" + std::to_string(port) + ": " +
                               ec.message());
  }
  {
    std::lock_guard lock(m.mu);
    m.port = bound;
    m.running = true;
  }
  m.DoAccept();
  for (int i = 0; i < threads; ++i) {
    m.threads.emplace_back([ioc = m.ioc.get()] {
      SetThreadName("http-receiver");
      ioc->run();
    });
  }
  return Status::Ok();
}

void HttpReceiver::Stop() {
  Impl& m = *impl_;
  if (!m.ioc) return;
  m.ioc->stop();
  for (auto& t : m.threads) t.join();
  m.threads.clear();
  // No handler runs now. Closing the acceptor refuses new connections; destroying the
  // io_context destroys every pending handler and with it each Session and its socket.
  m.acceptor.reset();
  m.ioc.reset();
  std::lock_guard lock(m.mu);
  m.running = false;
}

bool HttpReceiver::running() const {
  std::lock_guard lock(impl_->mu);
  return impl_->running;
}

uint16_t HttpReceiver::port() const {
  std::lock_guard lock(impl_->mu);
  return impl_->port;
}

std::string HttpReceiver::Url(const std::string& target) const {
  return "http://127.0.0.1:" + std::to_string(port()) + target;
}

void HttpReceiver::SetResponder(Responder responder) {
  std::lock_guard lock(impl_->mu);
  impl_->responder = std::move(responder);
}

void HttpReceiver::SetStatus(int status) {
  SetResponder([status](const Received&) { return status; });
}

void HttpReceiver::SetResponseBody(std::string body) {
  std::lock_guard lock(impl_->mu);
  impl_->response_body = std::move(body);
}

std::vector<Received> HttpReceiver::Requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->requests;
}

size_t HttpReceiver::Count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->requests.size();
}

bool HttpReceiver::WaitForCount(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->requests.size() >= n; });
}

uint64_t HttpReceiver::Connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connections;
}

void HttpReceiver::Clear() {
  std::lock_guard lock(impl_->mu);
  impl_->requests.clear();
}

std::vector<int64_t> AcceptedEventIds(const HttpReceiver& receiver) {
  std::vector<int64_t> ids;
  simdjson::dom::parser parser;
  for (const auto& req : receiver.Requests()) {
    if (req.status != 200) continue;  // refused by the test: not delivered
    simdjson::padded_string body(req.body);
    simdjson::dom::array events;
    if (parser.parse(body).get(events)) {
      ADD_FAILURE() << "not a JSON array: " << req.body.substr(0, 200);
      continue;
    }
    for (auto e : events) ids.push_back(int64_t(e["id"]));
  }
  return ids;
}

}  // namespace cistern::testing
