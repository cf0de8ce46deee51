// MqttSession: one MQTT 3.1.1 / 5.0 publisher connection (docs/mqtt.md), plain or over TLS,
// on its own strand of the HTTP server's io threads, registered with the server's
// SessionTracker (one --max-connections for both, the same deadline sweep and shutdown).
//
//   accept -> [TLS handshake] -> CONNECT (within connect_timeout; the password is checked
//   before any later byte is decoded) -> the store opens the session (its QoS 2 receipts come
//   back) -> CONNACK -> PUBLISH / PUBREL / PINGREQ ... -> DISCONNECT or the connection is lost.
//
// This file is the per-connection state machine: reading and decoding, CONNECT and the
// token check (against the tokens in effect when the CONNECT arrives, MqttContext::live),
// the store calls and their answers posted back to the strand, writing, keep-alive, Will,
// take-over and closing. What each PUBLISH/PUBREL needs and what each store answer means is
// InflightPublishes' (inflight.h), and turning payloads into events payload.h's.
//
// Acknowledgement contract: a PUBLISH's PUBACK (QoS 1) or PUBREC (QoS 2) is sent after the
// commit that stored its events (or its dead letter) returned OK, PUBCOMP after the commit
// that released the QoS 2 receipt; all of them in the order the packets arrived (AckQueue).
// When the store refuses (buffer full, disk full, I/O error) nothing is acknowledged: the
// session stops reading and retries the same append until it succeeds (backpressure, never a
// negative ack). At most receive_maximum PUBLISHes are in flight; then reading stops too.
// Keep-alive: no packet for 1.5 x Keep Alive closes the connection (and stores the Will).
//
// Thread-safety: members are touched on the strand only; Shutdown, Expire, Evict and TakeOver
// may be called from any thread (they post).
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "ingest/mqtt/context.h"
#include "ingest/mqtt/encoder.h"
#include "ingest/mqtt/inflight.h"
#include "ingest/session_base.h"
#include "ingest/session_socket.h"

namespace cistern::mqtt {

class MqttSessionBase : public SessionBase {
 public:
  // Another connection claimed this client id: close (5.0: DISCONNECT 0x8E first).
  virtual void TakeOver() = 0;
};

template <class Stream>
class MqttSession : public MqttSessionBase,
                    public std::enable_shared_from_this<MqttSession<Stream>> {
 public:
  MqttSession(Stream&& stream, std::shared_ptr<MqttContext> ctx);
  ~MqttSession() override;

  void Start();
  void Shutdown() override;
  void Expire() override;
  void Evict() override;
  void TakeOver() override;

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, SessionSocket>;

  void DoRead();
  void OnRead(boost::system::error_code ec, size_t n);
  void Process();
  void Handle(Packet&& packet);
  void OnConnect(Connect&& c);
  void OnSessionOpened(const OpResult& r);
  void OnPublish(Publish&& p);
  void OnPubRel(uint16_t packet_id);
  void Submit(uint64_t ticket);
  void OnAppended(uint64_t ticket, const AppendResult& r);
  void RetryFailed();
  void StoreWill();
  void Flush();
  void Send(const auto& packet);
  void DoWrite();
  void Fail(const DecodeError& e);
  void CloseAfterWrite();
  void DoClose(bool store_will);
  bool Paused() const;
  void ArmKeepAlive();

  Stream stream_;
  std::shared_ptr<MqttContext> ctx_;
  MqttCounters& counters_;
  std::vector<uint8_t> in_;  // received bytes [in_start_, in_end_) not yet decoded
  size_t in_start_ = 0, in_end_ = 0, need_ = 0;
  std::vector<uint8_t> out_, writing_;  // answers to send; the ones being written
  bool reading_ = false, writing_now_ = false, in_process_ = false;
  bool connected_ = false, opening_ = false, closed_ = false, close_after_write_ = false;
  bool shutting_down_ = false, backing_off_ = false, session_owner_ = false;
  EncodeOptions enc_;
  std::string client_id_;
  uint16_t keep_alive_s_ = 0;
  bool clean_ = true;
  bool assigned_id_ = false;  // the client sent an empty id: CONNACK tells it ours
  int64_t expiry_ms_ = 0;
  std::optional<Will> will_;
  InflightPublishes inflight_;
  boost::asio::steady_timer retry_timer_;
};

using PlainMqttSession = MqttSession<SessionSocket>;
using TlsMqttSession = MqttSession<TlsSessionStream>;

}  // namespace cistern::mqtt
