#include "ingest/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <thread>
#include <vector>

#include "common/thread_name.h"
#include "ingest/router.h"
#include "ingest/session.h"

namespace cistern {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<std::unique_ptr<asio::ssl::context>> MakeTlsContext(const std::string& cert,
                                                           const std::string& key) {
  if (cert.empty() || key.empty()) {
    return Status::InvalidArgument("TLS needs both --tls-cert and --tls-key");
  }
  boost::system::error_code ec;
  auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  // TLS 1.2: ECDHE key exchange with AEAD ciphers only (forward secrecy; no static RSA, no
  // CBC/SHA-1), Mozilla's "intermediate" list. TLS 1.3 suites are all AEAD and stay as they
  // are (docs/security.md). Shared by HTTPS and MQTTS.
  if (SSL_CTX_set_cipher_list(tls->native_handle(),
                              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                              "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1) {
    return Status::Internal("TLS: cannot set the TLS 1.2 cipher list");
  }
  tls->use_certificate_chain_file(cert, ec);
  if (ec) return Status::InvalidArgument("--tls-cert " + cert + ": " + ec.message());
  tls->use_private_key_file(key, asio::ssl::context::pem, ec);
  if (ec) return Status::InvalidArgument("--tls-key " + key + ": " + ec.message());
  return tls;
}

Server::Server(ServerOptions options, Router& router)
    : options_(std::move(options)),
      router_(router),
      ioc_(options_.io_threads),
      acceptor_(asio::make_strand(ioc_)),
      poll_timer_(acceptor_.get_executor()),
      sweep_timer_(acceptor_.get_executor()) {}

Server::~Server() = default;

Result<tcp::endpoint> Server::Listen() {
  boost::system::error_code ec;
  if (!options_.tls_cert.empty() || !options_.tls_key.empty()) {
    auto tls = MakeTlsContext(options_.tls_cert, options_.tls_key);
    if (!tls.ok()) return tls.status();
    tls_ = std::move(tls.value());
  }
  auto address = asio::ip::make_address(options_.host, ec);
  if (ec) return Status::InvalidArgument("invalid listen address '" + options_.host + "'");
  tcp::endpoint endpoint(address, options_.port);
  auto fail = [&](const char* what) {
    return Status::Unavailable(
        fmt::format("cannot {} {}:{}: {}", what, options_.host, options_.port, ec.message()));
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  auto bound = acceptor_.local_endpoint(ec);
  if (ec) return fail("read the address of");
  DoAccept();
  DoSweep();
  return bound;
}

void Server::DoSweep() {
  // Deadline resolution: a quarter of the shortest timeout, within [20ms, 250ms].
  auto shortest = std::min({options_.session.header_timeout, options_.session.body_timeout,
                            options_.session.write_timeout});
  auto period =
      std::clamp(shortest / 4, std::chrono::milliseconds(20), std::chrono::milliseconds(250));
  sweep_timer_.expires_after(period);
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // cancelled: shutting down
    tracker_.Sweep(SessionBase::NowMs());
    // PollSessions' cancel() misses a wait that had already completed and was queued: once
    // shutting down with no session left, stop here, or the io_context never runs dry.
    if (stopping_ && tracker_.Count() == 0) return;
    DoSweep();
  });
}

void Server::DoAccept() {
  acceptor_.async_accept(asio::make_strand(ioc_),
                         [this](boost::system::error_code ec, SessionSocket socket) {
                           OnAccept(ec, std::move(socket));
                         });
}

void Server::OnAccept(boost::system::error_code ec, SessionSocket socket) {
  if (stopping_) return;
  if (ec) {
    // EMFILE and friends: log, and keep accepting rather than dying.
    spdlog::warn("accept: {}", ec.message());
  } else if (tracker_.Count() >= options_.max_connections && !tracker_.EvictOldestIdle()) {
    // Every connection is busy with a request: refuse the new one.
    RejectConnection(std::move(socket));
  } else {
    // At the limit, the connection that waited longest for a request made room: idle
    // keep-alive and slow-header clients cannot lock out new ones (nginx does the same with
    // idle keep-alive connections when worker_connections run out).
    socket.set_option(tcp::no_delay(true), ec);
    if (tls_) {
      std::make_shared<TlsSession>(TlsSessionStream(std::move(socket), *tls_), router_,
                                   options_.session, tracker_)
          ->Start();
    } else {
      std::make_shared<Session>(std::move(socket), router_, options_.session, tracker_)->Start();
    }
  }
  DoAccept();
}

void Server::RejectConnection(SessionSocket socket) {
  if (rejected_connections_.fetch_add(1) % 1000 == 0) {
    spdlog::warn("connection limit ({}) reached: refusing new connections with 503",
                 options_.max_connections);
  }
  if (tls_) {  // a plaintext answer means nothing to a TLS client: just close
    boost::system::error_code ignored;
    socket.close(ignored);
    return;
  }
  static const std::string kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
      "Retry-After: 1\r\nConnection: close\r\nContent-Length: 36\r\n\r\n"
      "{\"error\":\"too many connections\"}\r\n\r\n";
  auto sock = std::make_shared<SessionSocket>(std::move(socket));
  asio::async_write(*sock, asio::buffer(kBusy), [sock](boost::system::error_code, size_t) {
    boost::system::error_code ignored;
    sock->shutdown(tcp::socket::shutdown_both, ignored);
    sock->close(ignored);
  });
}

void Server::Run() {
  std::vector<std::thread> threads;
  for (int i = 1; i < options_.io_threads; ++i) {
    threads.emplace_back([this, i] {
      SetThreadName("cistern-io" + std::to_string(i));
      ioc_.run();
    });
  }
  // The calling (main) thread keeps the process name, so `pgrep -x cistern` still works.
  ioc_.run();
  for (auto& t : threads) t.join();
}

void Server::Stop() {
  if (stopping_.exchange(true)) return;
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    size_t n = 0;
    for (auto& s : tracker_.Live()) {
      s->Shutdown();
      ++n;
    }
    spdlog::info("stopping: closed the listener, finishing {} connection(s)", n);
    shutdown_deadline_ = std::chrono::steady_clock::now() + options_.shutdown_grace;
    PollSessions();
  });
}

void Server::PollSessions() {
  // Returning without re-arming lets the io_context run out of work, which ends Run().
  if (tracker_.Count() == 0) {
    sweep_timer_.cancel();
    return;
  }
  if (std::chrono::steady_clock::now() >= shutdown_deadline_) {
    spdlog::warn("shutdown grace over: dropping {} connection(s)", tracker_.Count());
    ioc_.stop();
    return;
  }
  poll_timer_.expires_after(std::chrono::milliseconds(20));
  poll_timer_.async_wait([this](boost::system::error_code) { PollSessions(); });
}

}  // namespace cistern
