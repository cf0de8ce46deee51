// MqttListener: the MQTT ingest endpoint (docs/mqtt.md). Accepts on --mqtt-listen (plain)
// and/or --mqtts-listen (TLS, with --tls-cert/--tls-key) on the HTTP server's io_context,
// and runs each connection as an MqttSession registered with the server's SessionTracker:
// --max-connections counts HTTP and MQTT connections together, the server's sweep enforces
// the MQTT deadlines, and Server::Stop shuts MQTT connections down with the HTTP ones.
// Thread-safety: Listen before the io threads run; Stop from any thread (before Server::Stop,
// so that no connection is accepted once the server's shutdown began); SetLive from any
// thread.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "common/status.h"
#include "ingest/mqtt/context.h"

namespace boost::asio::ssl {
class context;
}
namespace cistern {
class Server;
}

namespace cistern::mqtt {

class MqttListener {
 public:
  MqttListener(std::shared_ptr<Store> store, ListenerOptions options, Server& server);
  ~MqttListener();

  // Parses the topic template, loads TLS files, binds and listens. InvalidArgument for a bad
  // template or TLS files, Unavailable when an address cannot be bound.
  Status Listen();
  // The bound endpoints (port 0 in the options picks a free port).
  boost::asio::ip::tcp::endpoint plain_endpoint() const { return plain_endpoint_; }
  boost::asio::ip::tcp::endpoint tls_endpoint() const { return tls_endpoint_; }
  // A config reload (docs/configuration.md "Reload"): CONNECTs from now on are checked against
  // live.tokens and PUBLISHes parsed with live.parse; open connections stay. No-op before
  // Listen.
  void SetLive(LiveOptions live);
  // Closes the acceptors. Idempotent.
  void Stop();

  // Null before Listen.
  const MqttCounters* counters() const { return ctx_ ? &ctx_->counters() : nullptr; }

 private:
  struct Acceptor;
  Result<boost::asio::ip::tcp::endpoint> Open(Acceptor& a, const std::string& host, uint16_t port);
  void DoAccept(Acceptor& a);

  std::shared_ptr<Store> store_;
  ListenerOptions options_;
  Server& server_;
  std::shared_ptr<MqttContext> ctx_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  std::unique_ptr<Acceptor> plain_, secure_;
  boost::asio::ip::tcp::endpoint plain_endpoint_, tls_endpoint_;
  std::atomic<bool> stopping_{false};
};

}  // namespace cistern::mqtt
