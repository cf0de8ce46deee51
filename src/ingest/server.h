// Server: the listener and the io threads. Accepts connections (each on its own strand),
// bounds their number, and shuts down in order: stop accepting, close idle connections,
// let in-flight requests finish, then return from Run().
// Thread-safety: Listen before Run; Stop from any thread (or a signal handler set up on
// context()).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "common/status.h"
#include "ingest/server_options.h"
#include "ingest/session_socket.h"
#include "ingest/session_tracker.h"

namespace cistern {

class Router;

// A TLS server context from PEM files (certificate chain, private key), TLS 1.2 and later.
// InvalidArgument naming the flag when a file is unusable. Shared with the MQTT listener.
Result<std::unique_ptr<boost::asio::ssl::context>> MakeTlsContext(const std::string& cert,
                                                                  const std::string& key);

class Server {
 public:
  Server(ServerOptions options, Router& router);
  ~Server();

  // Loads the TLS certificate and key (when configured), binds and listens. Returns the bound
  // endpoint (port 0 picks a free port); InvalidArgument for unusable TLS files.
  Result<boost::asio::ip::tcp::endpoint> Listen();
  // Runs the io threads (this thread included) until Stop() and every connection closed.
  void Run();
  // Begins the graceful shutdown. Idempotent.
  void Stop();

  boost::asio::io_context& context() { return ioc_; }
  size_t connections() const { return tracker_.Count(); }
  // The live connections (the MQTT listener's too: one --max-connections, one sweep).
  SessionTracker& tracker() { return tracker_; }

 private:
  void DoAccept();
  void OnAccept(boost::system::error_code ec, SessionSocket socket);
  void RejectConnection(SessionSocket socket);
  void DoSweep();
  void PollSessions();

  const ServerOptions options_;
  Router& router_;
  // Declared before ioc_ so they outlive it: destroying ioc_ destroys the handlers still
  // queued (after a shutdown grace ran out), and with them sessions that unregister from
  // tracker_ and whose TLS streams use tls_.
  SessionTracker tracker_;
  std::unique_ptr<boost::asio::ssl::context> tls_;  // set by Listen() when TLS is configured
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  // On the acceptor's strand, like every handler that touches them: timers are not
  // thread-safe, and Stop's handler cancels the sweep from another io thread.
  boost::asio::steady_timer poll_timer_;   // shutdown only
  boost::asio::steady_timer sweep_timer_;  // session deadlines
  std::chrono::steady_clock::time_point shutdown_deadline_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> rejected_connections_{0};
};

}  // namespace cistern
