#include "ingest/mqtt/listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "ingest/mqtt/session.h"
#include "ingest/server.h"
#include "ingest/session_tracker.h"

namespace cistern::mqtt {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

MqttContext::MqttContext(std::shared_ptr<Store> store, ListenerOptions options, TopicMap topics,
                         SessionTracker& tracker)
    : store_(std::move(store)),
      options_(std::move(options)),
      topics_(std::move(topics)),
      live_(std::make_shared<const LiveOptions>(LiveOptions{options_.tokens, options_.parse})),
      tracker_(tracker) {
  decoder_.maximum_packet_size = options_.maximum_packet_size;
  decoder_.topic_alias_maximum = 0;
  decoder_.retain_available = false;
  decoder_.maximum_qos = 2;
}

void MqttContext::Claim(const std::string& client_id,
                        const std::shared_ptr<MqttSessionBase>& session,
                        const std::function<void()>& open) {
  std::lock_guard lock(mu_);
  auto& owner = owners_[client_id];
  if (auto previous = owner.lock(); previous && previous.get() != session.get()) {
    previous->TakeOver();
  }
  owner = session;
  open();
}

void MqttContext::Release(const std::string& client_id, const MqttSessionBase* session,
                          const std::function<void()>& close) {
  std::lock_guard lock(mu_);
  auto it = owners_.find(client_id);
  if (it == owners_.end()) return;
  auto owner = it->second.lock();
  // A session being destroyed cannot be locked any more: compare the raw pointer.
  if (owner && owner.get() != session) return;
  owners_.erase(it);
  close();
}

struct MqttListener::Acceptor {
  explicit Acceptor(asio::io_context& ioc) : acceptor(asio::make_strand(ioc)) {}
  tcp::acceptor acceptor;
  bool tls = false;
};

MqttListener::MqttListener(std::shared_ptr<Store> store, ListenerOptions options, Server& server)
    : store_(std::move(store)), options_(std::move(options)), server_(server) {}

MqttListener::~MqttListener() = default;

Result<tcp::endpoint> MqttListener::Open(Acceptor& a, const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("invalid MQTT listen address '" + host + "'");
  tcp::endpoint endpoint(address, port);
  auto fail = [&](const char* what) {
    return Status::Unavailable(
        fmt::format("cannot {} {}:{} (MQTT): {}", what, host, port, ec.message()));
  };
  a.acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  a.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  a.acceptor.bind(endpoint, ec);
  if (ec) return fail("bind");
  a.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  auto bound = a.acceptor.local_endpoint(ec);
  if (ec) return fail("read the address of");
  return bound;
}

Status MqttListener::Listen() {
  auto topics = TopicMap::Parse(options_.topic_template);
  if (!topics.ok()) return topics.status();
  ctx_ =
      std::make_shared<MqttContext>(store_, options_, std::move(topics.value()), server_.tracker());
  if (options_.plain) {
    plain_ = std::make_unique<Acceptor>(server_.context());
    auto bound = Open(*plain_, options_.host, options_.port);
    if (!bound.ok()) return bound.status();
    plain_endpoint_ = *bound;
    DoAccept(*plain_);
  }
  if (options_.tls) {
    auto tls = MakeTlsContext(options_.tls_cert, options_.tls_key);
    if (!tls.ok()) return tls.status();
    tls_ = std::move(tls.value());
    secure_ = std::make_unique<Acceptor>(server_.context());
    secure_->tls = true;
    auto bound = Open(*secure_, options_.tls_host, options_.tls_port);
    if (!bound.ok()) return bound.status();
    tls_endpoint_ = *bound;
    DoAccept(*secure_);
  }
  return Status::Ok();
}

void MqttListener::DoAccept(Acceptor& a) {
  a.acceptor.async_accept(asio::make_strand(server_.context()), [this, &a](
                                                                    boost::system::error_code ec,
                                                                    SessionSocket socket) {
    if (stopping_ || ec == asio::error::operation_aborted) return;
    if (ec) {
      spdlog::warn("mqtt accept: {}", ec.message());
    } else if (ctx_->tracker().Count() >= options_.max_connections &&
               !ctx_->tracker().EvictOldestIdle()) {
      // Every connection is busy: refuse (a client reconnects with backoff).
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      if (a.tls) {
        std::make_shared<TlsMqttSession>(TlsSessionStream(std::move(socket), *tls_), ctx_)->Start();
      } else {
        std::make_shared<PlainMqttSession>(std::move(socket), ctx_)->Start();
      }
    }
    DoAccept(a);
  });
}

void MqttListener::SetLive(LiveOptions live) {
  if (ctx_) ctx_->SetLive(std::move(live));
}

void MqttListener::Stop() {
  if (stopping_.exchange(true)) return;
  for (Acceptor* a : {plain_.get(), secure_.get()}) {
    if (!a) continue;
    asio::post(a->acceptor.get_executor(), [a] {
      boost::system::error_code ec;
      a->acceptor.close(ec);
    });
  }
}

}  // namespace cistern::mqtt
