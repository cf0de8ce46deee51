#include "ingest/mqtt/session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <chrono>
#include <random>

#include "common/secrets.h"
#include "ingest/mqtt/payload.h"
#include "ingest/session_tracker.h"

namespace cistern::mqtt {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxUnsentBytes = 1 << 20;  // answers not yet written: stop reading above
constexpr auto kRetryDelay = std::chrono::milliseconds(100);

std::string AssignClientId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("cistern-{:016x}", rng());
}

bool TokenMatches(const std::optional<Bytes>& password, const std::vector<std::string>& tokens) {
  if (tokens.empty()) return true;
  std::string_view given;
  if (password)
    given = std::string_view(reinterpret_cast<const char*>(password->data()), password->size());
  bool ok = false;
  for (const std::string& t : tokens) ok |= ConstantTimeEquals(given, t);  // no early exit
  return ok && password.has_value();
}

}  // namespace

template <class Stream>
MqttSession<Stream>::MqttSession(Stream&& stream, std::shared_ptr<MqttContext> ctx)
    : stream_(std::move(stream)),
      ctx_(std::move(ctx)),
      counters_(ctx_->counters()),
      inflight_(*ctx_),
      retry_timer_(stream_.get_executor()) {
  counters_.connections.fetch_add(1, std::memory_order_relaxed);
}

template <class Stream>
MqttSession<Stream>::~MqttSession() {
  counters_.connections.fetch_sub(1, std::memory_order_relaxed);
  ctx_->tracker().Remove(this);
}

template <class Stream>
void MqttSession<Stream>::Start() {
  ctx_->tracker().Add(this, this->weak_from_this());
  asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
    // The TLS handshake and the CONNECT count against the connect timeout; until CONNECT
    // the connection may be evicted to make room (like an idle HTTP keep-alive).
    self->deadline_ms_.store(NowMs() + self->ctx_->options().connect_timeout.count(),
                             std::memory_order_relaxed);
    self->idle_since_ms_.store(NowMs(), std::memory_order_relaxed);
    if constexpr (kTls) {
      self->stream_.async_handshake(asio::ssl::stream_base::server, [self](error_code ec) {
        if (ec) return self->DoClose(false);
        self->DoRead();
      });
    } else {
      self->DoRead();
    }
  });
}

template <class Stream>
void MqttSession<Stream>::Shutdown() {
  asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
    self->shutting_down_ = true;
    if (!self->connected_ && !self->opening_) return self->DoClose(false);
    self->Flush();  // closes once every answer in flight went out
  });
}

template <class Stream>
void MqttSession<Stream>::Expire() {
  asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
    int64_t deadline = self->deadline_ms();
    if (deadline == 0 || NowMs() < deadline) return;
    if (self->connected_) {
      // Keep-alive timeout: the client is gone without DISCONNECT, its Will applies.
      if (self->enc_.version == ProtocolVersion::kV5) {
        Disconnect d;
        d.reason = ReasonCode::kKeepAliveTimeout;
        self->Send(d);
      }
    }
    self->DoClose(self->connected_);
  });
}

template <class Stream>
void MqttSession<Stream>::Evict() {
  asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
    if (!self->connected_ && !self->opening_) self->DoClose(false);
  });
}

template <class Stream>
void MqttSession<Stream>::TakeOver() {
  asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
    self->session_owner_ = false;  // the new connection owns the stored session now
    if (self->enc_.version == ProtocolVersion::kV5 && self->connected_) {
      Disconnect d;
      d.reason = ReasonCode::kSessionTakenOver;
      self->Send(d);
      self->CloseAfterWrite();
    } else {
      self->DoClose(false);
    }
  });
}

template <class Stream>
bool MqttSession<Stream>::Paused() const {
  return closed_ || close_after_write_ || shutting_down_ || opening_ || backing_off_ ||
         inflight_.size() >= ctx_->options().receive_maximum || out_.size() > kMaxUnsentBytes;
}

template <class Stream>
void MqttSession<Stream>::ArmKeepAlive() {
  if (!connected_) return;
  // 1.5 x Keep Alive (MQTT-3.1.2-24), while the session is reading; 0 = none.
  int64_t d = keep_alive_s_ == 0 || Paused() ? 0 : NowMs() + keep_alive_s_ * 1500LL;
  deadline_ms_.store(d, std::memory_order_relaxed);
}

template <class Stream>
void MqttSession<Stream>::DoRead() {
  if (reading_ || Paused()) return;
  if (in_start_ == in_end_) in_start_ = in_end_ = 0;
  if (in_start_ > 0 && (in_end_ == in_.size() || in_start_ > in_.size() / 2)) {
    std::copy(in_.begin() + in_start_, in_.begin() + in_end_, in_.begin());
    in_end_ -= in_start_;
    in_start_ = 0;
  }
  size_t want = std::max(in_end_ + kReadChunk, in_start_ + need_);
  if (in_.size() < want) in_.resize(want);
  reading_ = true;
  stream_.async_read_some(
      asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
      [self = this->shared_from_this()](error_code ec, size_t n) { self->OnRead(ec, n); });
}

template <class Stream>
void MqttSession<Stream>::OnRead(error_code ec, size_t n) {
  reading_ = false;
  if (closed_) return;
  if (ec) {
    // Lost without DISCONNECT: the Will applies (3.1.2.5), unless we were closing anyway.
    return DoClose(connected_ && !close_after_write_ && !shutting_down_);
  }
  in_end_ += n;
  ArmKeepAlive();
  Process();
}

template <class Stream>
void MqttSession<Stream>::Process() {
  // Answers completed while handling a packet call back here: the loop below goes on.
  if (in_process_) return;
  in_process_ = true;
  while (!Paused() && in_end_ > in_start_) {
    auto result =
        Decode(std::span<const uint8_t>(in_.data() + in_start_, in_end_ - in_start_),
               connected_ || opening_ ? enc_.version : ProtocolVersion::kUnknown, ctx_->decoder());
    if (auto* more = std::get_if<NeedMore>(&result)) {
      need_ = more->total_bytes;
      break;
    }
    if (auto* err = std::get_if<DecodeError>(&result)) {
      in_process_ = false;
      return Fail(*err);
    }
    auto& decoded = std::get<Decoded>(result);
    in_start_ += decoded.consumed;
    need_ = 0;
    Handle(std::move(decoded.packet));
  }
  in_process_ = false;
  DoRead();
}

template <class Stream>
void MqttSession<Stream>::Handle(Packet&& packet) {
  if (auto* c = std::get_if<Connect>(&packet)) return OnConnect(std::move(*c));
  if (auto* p = std::get_if<Publish>(&packet)) return OnPublish(std::move(*p));
  if (auto* r = std::get_if<PublishResponse>(&packet)) {
    if (r->type == PacketType::kPubRel) return OnPubRel(r->packet_id);
    // PUBACK/PUBREC/PUBCOMP answer PUBLISHes a server sends; Cistern sends none.
    return Fail(DecodeError{ReasonCode::kProtocolError, "unexpected acknowledgement"});
  }
  if (std::holds_alternative<PingReq>(packet)) return Send(PingResp{});
  if (auto* s = std::get_if<Subscribe>(&packet)) {
    // An ingest endpoint, not a broker: every subscription is refused.
    SubAck ack;
    ack.packet_id = s->packet_id;
    ack.reasons.assign(s->subscriptions.size(), ReasonCode::kImplementationSpecificError);
    return Send(ack);
  }
  if (auto* u = std::get_if<Unsubscribe>(&packet)) {
    UnsubAck ack;
    ack.packet_id = u->packet_id;
    ack.reasons.assign(u->filters.size(), ReasonCode::kNoSubscriptionExisted);
    return Send(ack);
  }
  if (auto* d = std::get_if<Disconnect>(&packet)) {
    // 5.0: a DISCONNECT may change the Session Expiry Interval unless it was 0 (3.14.2.2.2).
    if (d->properties.session_expiry_interval && expiry_ms_ != 0) {
      uint32_t s = *d->properties.session_expiry_interval;
      expiry_ms_ = s == 0xFFFFFFFF ? -1 : int64_t{s} * 1000;
    }
    const bool with_will = d->reason == ReasonCode::kDisconnectWithWillMessage;
    close_after_write_ = true;  // answers still in flight cannot reach the client any more
    return DoClose(with_will);
  }
  // AUTH: enhanced authentication was never negotiated (CONNECT with a method is refused).
  Fail(DecodeError{ReasonCode::kProtocolError, "AUTH without enhanced authentication"});
}

template <class Stream>
void MqttSession<Stream>::OnConnect(Connect&& c) {
  idle_since_ms_.store(0, std::memory_order_relaxed);
  enc_.version = c.version;
  if (c.properties.maximum_packet_size)
    enc_.maximum_packet_size = *c.properties.maximum_packet_size;
  // The token, before anything after the CONNECT is decoded.
  if (!TokenMatches(c.password, ctx_->live()->tokens)) {
    counters_.refused_auth.fetch_add(1, std::memory_order_relaxed);
    ConnAck ack;
    ack.reason = ReasonCode::kNotAuthorized;  // 3.1.1: return code 5
    Send(ack);
    return CloseAfterWrite();
  }
  client_id_ = c.client_id;
  if (client_id_.empty()) {
    client_id_ = AssignClientId();
    assigned_id_ = true;
  }
  keep_alive_s_ = c.keep_alive;
  clean_ = c.clean_start;
  if (c.version == ProtocolVersion::kV5) {
    uint32_t s = c.properties.session_expiry_interval.value_or(0);
    expiry_ms_ = s == 0xFFFFFFFF ? -1 : int64_t{s} * 1000;
  } else {
    expiry_ms_ = c.clean_start ? 0 : -1;  // 3.1.1: a kept session lasts until a clean one
  }
  will_ = std::move(c.will);
  opening_ = true;  // reading pauses until the store answered
  deadline_ms_.store(0, std::memory_order_relaxed);
  auto self = this->shared_from_this();
  auto ex = asio::prefer(stream_.get_executor(), asio::execution::outstanding_work.tracked);
  ctx_->Claim(client_id_, self, [&] {
    session_owner_ = true;
    ctx_->store().OpenMqttSession(client_id_, clean_, expiry_ms_, [self, ex](const OpResult& r) {
      asio::post(ex, [self, r] { self->OnSessionOpened(r); });
    });
  });
}

template <class Stream>
void MqttSession<Stream>::OnSessionOpened(const OpResult& r) {
  opening_ = false;
  if (closed_) return;
  ConnAck ack;
  if (!r.status.ok()) {
    spdlog::warn("mqtt: cannot open the session of '{}': {}", client_id_, r.status.message());
    ack.reason = ReasonCode::kServerUnavailable;
    Send(ack);
    return CloseAfterWrite();
  }
  inflight_.RestoreQos2(r.values);
  ack.session_present = !clean_ && r.count == 1;
  if (enc_.version == ProtocolVersion::kV5) {
    ack.properties = AdvertisedProperties(ctx_->decoder());
    ack.properties.receive_maximum = ctx_->options().receive_maximum;
    if (assigned_id_) {
      ack.properties.assigned_client_identifier = client_id_;
    }
  }
  Send(ack);
  connected_ = true;
  counters_.connects.fetch_add(1, std::memory_order_relaxed);
  ArmKeepAlive();
  if (shutting_down_) return Flush();
  Process();
}

template <class Stream>
void MqttSession<Stream>::OnPublish(Publish&& p) {
  if (auto ticket = inflight_.OnPublish(std::move(p), enc_.version, client_id_)) {
    return Submit(*ticket);
  }
  Flush();
}

template <class Stream>
void MqttSession<Stream>::Submit(uint64_t ticket) {
  auto ex = asio::prefer(stream_.get_executor(), asio::execution::outstanding_work.tracked);
  // A copy goes to the store: the original stays for a retry after a refusal.
  auto [batch, extras] = inflight_.Append(ticket);
  auto done = [self = this->shared_from_this(), ex, ticket](const AppendResult& r) {
    asio::post(ex, [self, ticket, r] { self->OnAppended(ticket, r); });
  };
  if (batch.empty() && extras.empty()) return done(AppendResult{Status::Ok()});
  ctx_->store().Append(std::move(batch), std::move(extras), std::move(done));
}

template <class Stream>
void MqttSession<Stream>::OnAppended(uint64_t ticket, const AppendResult& r) {
  switch (inflight_.OnAppended(ticket, r, enc_.version)) {
    case InflightPublishes::Appended::kUnknown:
      return;
    case InflightPublishes::Appended::kAnswered:
      return Flush();
    case InflightPublishes::Appended::kClose:
      return DoClose(false);
    case InflightPublishes::Appended::kRefused:
      break;
  }
  // Refused for now: stop reading and try the same append again shortly.
  if (closed_) return;  // nobody would get the answer; the client sends it again
  if (!backing_off_) {
    spdlog::debug("mqtt: store refused a publish of '{}' ({}): backing off", client_id_,
                  r.status.message());
    backing_off_ = true;
    ArmKeepAlive();
    retry_timer_.expires_after(kRetryDelay);
    retry_timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (!ec) self->RetryFailed();
    });
  }
}

template <class Stream>
void MqttSession<Stream>::RetryFailed() {
  if (closed_) return;
  if (!ctx_->store().Accepting()) {
    retry_timer_.expires_after(kRetryDelay);
    retry_timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (!ec) self->RetryFailed();
    });
    return;
  }
  backing_off_ = false;
  for (uint64_t ticket : inflight_.Failed()) Submit(ticket);
  ArmKeepAlive();
  Process();
}

template <class Stream>
void MqttSession<Stream>::OnPubRel(uint16_t packet_id) {
  const auto ticket = inflight_.OnPubRel(packet_id, enc_.version);
  if (!ticket) return Flush();
  auto ex = asio::prefer(stream_.get_executor(), asio::execution::outstanding_work.tracked);
  ctx_->store().ReleaseQos2(
      client_id_, packet_id, [self = this->shared_from_this(), ex, t = *ticket](const OpResult& r) {
        asio::post(ex, [self, t, r] {
          if (!r.status.ok()) {
            // The receipt stays: the client sends PUBREL again later.
            spdlog::warn("mqtt: cannot release a QoS 2 receipt: {}", r.status.message());
            return self->DoClose(false);
          }
          self->inflight_.Released(t);
          self->Flush();
        });
      });
}

template <class Stream>
void MqttSession<Stream>::Flush() {
  std::vector<PublishResponse> ready;
  inflight_.PopReady(&ready);
  for (const PublishResponse& r : ready) Send(r);
  if (shutting_down_ && inflight_.empty() && !closed_ && !close_after_write_) {
    if (enc_.version == ProtocolVersion::kV5 && connected_) {
      Disconnect d;
      d.reason = ReasonCode::kServerShuttingDown;
      Send(d);
    }
    return CloseAfterWrite();
  }
  if (!ready.empty() && !closed_) {
    ArmKeepAlive();
    Process();  // room in the window again
  }
}

template <class Stream>
void MqttSession<Stream>::Send(const auto& packet) {
  if (closed_) return;
  Status s = Encode(packet, enc_, &out_);
  if (!s.ok()) {
    // Over the client's Maximum Packet Size even without the optional parts, or a 3.1.1
    // negative ack: the connection cannot continue correctly.
    spdlog::debug("mqtt: cannot encode an answer for '{}': {}", client_id_, s.message());
    return DoClose(false);
  }
  DoWrite();
}

template <class Stream>
void MqttSession<Stream>::DoWrite() {
  if (writing_now_ || out_.empty() || closed_) return;
  writing_.swap(out_);
  out_.clear();
  writing_now_ = true;
  asio::async_write(stream_, asio::buffer(writing_),
                    [self = this->shared_from_this()](error_code ec, size_t) {
                      self->writing_now_ = false;
                      self->writing_.clear();
                      if (self->closed_) return;
                      if (ec) return self->DoClose(self->connected_ && !self->close_after_write_);
                      if (!self->out_.empty()) return self->DoWrite();
                      if (self->close_after_write_) return self->DoClose(false);
                      self->Process();  // the unsent answers were a reason to pause
                    });
}

template <class Stream>
void MqttSession<Stream>::Fail(const DecodeError& e) {
  counters_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
  spdlog::debug("mqtt: closing a connection ('{}'): {}", client_id_, e.message);
  if (!connected_ && !opening_) {
    if (e.connack_version != ProtocolVersion::kUnknown) {
      enc_.version = e.connack_version;
      ConnAck ack;
      ack.reason = e.reason;
      if (e.connack_version == ProtocolVersion::kV5 || ToV311ConnectReturnCode(e.reason)) {
        Send(ack);
      }
    }
    return CloseAfterWrite();
  }
  if (enc_.version == ProtocolVersion::kV5) {
    Disconnect d;
    d.reason = e.reason;
    Send(d);
  }
  // A protocol error ends the connection without DISCONNECT from the client: Will applies.
  StoreWill();
  CloseAfterWrite();
}

template <class Stream>
void MqttSession<Stream>::CloseAfterWrite() {
  close_after_write_ = true;
  deadline_ms_.store(NowMs() + ctx_->options().write_timeout.count(), std::memory_order_relaxed);
  if (!writing_now_ && out_.empty()) DoClose(false);
}

template <class Stream>
void MqttSession<Stream>::StoreWill() {
  if (!will_ || !connected_) return;
  Will will = std::move(*will_);
  will_.reset();
  mqtt::StoreWill(*ctx_, std::move(will), client_id_);
}

template <class Stream>
void MqttSession<Stream>::DoClose(bool store_will) {
  if (closed_) return;
  if (store_will) StoreWill();
  closed_ = true;
  deadline_ms_.store(0, std::memory_order_relaxed);
  retry_timer_.cancel();
  error_code ec;
  auto& sock = boost::beast::get_lowest_layer(stream_);
  sock.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  sock.close(ec);
  if (session_owner_ && !client_id_.empty()) {
    session_owner_ = false;
    ctx_->Release(client_id_, this, [&] {
      ctx_->store().CloseMqttSession(client_id_, expiry_ms_, [](const OpResult&) {});
    });
  }
}

template class MqttSession<SessionSocket>;
template class MqttSession<TlsSessionStream>;

}  // namespace cistern::mqtt
