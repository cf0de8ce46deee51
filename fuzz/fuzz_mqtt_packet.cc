// libFuzzer target: the bytes a client sends on one MQTT connection, through the framer and
// decoder (src/ingest/mqtt/decoder.h) as the session will drive them, with the encoders
// (src/ingest/mqtt/encoder.h) for round trips.
//
// Input: byte 0 chooses the set-up, the rest is the byte stream.
//   bits 0-1  starting version: 0 or 3 = none yet (a CONNECT must come first and sets it),
//             1 = 3.1.1, 2 = 5.0 (as after a CONNECT)
//   bits 2-3  maximum_packet_size: 1 MiB, 4096, 300, 64
//   bit 4     retain_available      bit 5  maximum_qos 1 (else 2)
//   bit 6     topic_alias_maximum 10 (else 0)
// Invariants (a broken one traps, so libFuzzer saves the input):
//  - NeedMore asks for more than is buffered, and never for more than the maximum packet size
//    (5 while the fixed header is incomplete): a connection's memory stays bounded;
//  - a packet consumes 2..available bytes, at most the maximum; every strict prefix of it
//    decodes to NeedMore for at most its size (feeding in pieces changes nothing);
//  - the decoded values keep the rules the decoder promises (UTF-8, QoS, packet ids, topics,
//    no 5.0 properties in 3.1.1);
//  - re-encoding a decoded packet succeeds, is no larger, and decodes to the same value;
//  - an error carries a reason code a CONNACK or DISCONNECT may carry and a message, and asks
//    for a CONNACK only for a CONNECT.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <variant>
#include <vector>

#include "ingest/mqtt/decoder.h"
#include "ingest/mqtt/encoder.h"
#include "ingest/mqtt/packet.h"
#include "ingest/mqtt/wire.h"

namespace {

using namespace cistern::mqtt;  // NOLINT

[[noreturn]] void Broken(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  __builtin_trap();
}
#define FUZZ_CHECK(cond)        \
  do {                          \
    if (!(cond)) Broken(#cond); \
  } while (0)

bool ValidString(const std::string& s) { return s.size() <= 65535 && IsValidMqttString(s); }

void CheckProperties(const Properties& p, ProtocolVersion v) {
  if (v != ProtocolVersion::kV5) {
    FUZZ_CHECK(p == Properties{});
    return;
  }
  for (const UserProperty& up : p.user_properties) {
    FUZZ_CHECK(ValidString(up.name) && ValidString(up.value));
  }
  if (p.content_type) FUZZ_CHECK(ValidString(*p.content_type));
  if (p.response_topic) FUZZ_CHECK(!p.response_topic->empty() && !HasWildcard(*p.response_topic));
  if (p.payload_format_indicator) FUZZ_CHECK(*p.payload_format_indicator <= 1);
  if (p.receive_maximum) FUZZ_CHECK(*p.receive_maximum != 0);
  if (p.maximum_packet_size) FUZZ_CHECK(*p.maximum_packet_size != 0);
}

void CheckTopicName(const std::string& topic) {
  FUZZ_CHECK(ValidString(topic));
  FUZZ_CHECK(!HasWildcard(topic));
}

// What Decode promises about a packet it returns.
void CheckPacket(const Packet& packet, ProtocolVersion v, const DecoderOptions& o) {
  if (const auto* c = std::get_if<Connect>(&packet)) {
    FUZZ_CHECK(v == ProtocolVersion::kUnknown);
    FUZZ_CHECK(c->version == ProtocolVersion::kV311 || c->version == ProtocolVersion::kV5);
    FUZZ_CHECK(ValidString(c->client_id));
    CheckProperties(c->properties, c->version);
    FUZZ_CHECK(!c->properties.authentication_method);
    if (c->version == ProtocolVersion::kV311) {
      FUZZ_CHECK(!c->password || c->username);
      FUZZ_CHECK(!c->client_id.empty() || c->clean_start);
    }
    if (c->will) {
      CheckTopicName(c->will->topic);
      FUZZ_CHECK(!c->will->topic.empty());
      FUZZ_CHECK(c->will->qos <= 2);
      CheckProperties(c->will->properties, c->version);
      if (c->version == ProtocolVersion::kV5) {
        FUZZ_CHECK(c->will->qos <= o.maximum_qos);
        FUZZ_CHECK(!c->will->retain || o.retain_available);
        if (c->will->properties.payload_format_indicator == 1) {
          FUZZ_CHECK(IsWellFormedUtf8(c->will->payload));
        }
      }
    }
    return;
  }
  FUZZ_CHECK(v != ProtocolVersion::kUnknown);
  if (const auto* p = std::get_if<Publish>(&packet)) {
    FUZZ_CHECK(p->qos <= 2);
    FUZZ_CHECK((p->qos == 0) == (p->packet_id == 0));
    FUZZ_CHECK(!(p->dup && p->qos == 0));
    CheckTopicName(p->topic);
    CheckProperties(p->properties, v);
    FUZZ_CHECK(p->properties.subscription_identifiers.empty());
    if (p->topic.empty()) FUZZ_CHECK(p->properties.topic_alias.has_value());
    if (p->properties.topic_alias) {
      FUZZ_CHECK(*p->properties.topic_alias >= 1 &&
                 *p->properties.topic_alias <= o.topic_alias_maximum);
    }
    if (v == ProtocolVersion::kV5) {
      FUZZ_CHECK(p->qos <= o.maximum_qos);
      FUZZ_CHECK(!p->retain || o.retain_available);
    }
  } else if (const auto* r = std::get_if<PublishResponse>(&packet)) {
    FUZZ_CHECK(r->packet_id != 0);
    FUZZ_CHECK(IsValidReasonCode(r->type, r->reason));
    CheckProperties(r->properties, v);
  } else if (const auto* s = std::get_if<Subscribe>(&packet)) {
    FUZZ_CHECK(s->packet_id != 0 && !s->subscriptions.empty());
    for (const Subscription& sub : s->subscriptions) {
      FUZZ_CHECK(ValidString(sub.filter) && !sub.filter.empty());
      FUZZ_CHECK(sub.max_qos <= 2 && sub.retain_handling <= 2);
    }
    CheckProperties(s->properties, v);
  } else if (const auto* u = std::get_if<Unsubscribe>(&packet)) {
    FUZZ_CHECK(u->packet_id != 0 && !u->filters.empty());
    for (const std::string& f : u->filters) FUZZ_CHECK(ValidString(f) && !f.empty());
    CheckProperties(u->properties, v);
  } else if (const auto* d = std::get_if<Disconnect>(&packet)) {
    FUZZ_CHECK(IsValidReasonCode(PacketType::kDisconnect, d->reason));
    CheckProperties(d->properties, v);
  } else if (const auto* a = std::get_if<Auth>(&packet)) {
    FUZZ_CHECK(v == ProtocolVersion::kV5);
    FUZZ_CHECK(IsValidReasonCode(PacketType::kAuth, a->reason));
  }
}

void CheckError(const DecodeError& e, uint8_t first_byte) {
  FUZZ_CHECK(!e.message.empty());
  const auto reason = e.reason;
  FUZZ_CHECK(IsValidReasonCode(PacketType::kConnAck, reason) ||
             IsValidReasonCode(PacketType::kDisconnect, reason));
  FUZZ_CHECK(static_cast<uint8_t>(reason) >= 0x80);
  if (e.connack_version != ProtocolVersion::kUnknown) {
    FUZZ_CHECK((first_byte >> 4) == 1);  // only a CONNECT is answered with a CONNACK
    FUZZ_CHECK(IsValidReasonCode(PacketType::kConnAck, reason));
    if (e.connack_version == ProtocolVersion::kV311) {
      FUZZ_CHECK(ToV311ConnectReturnCode(reason).has_value());
    }
  }
}

// Encodes the decoded packet again and decodes that: the same value, no more bytes.
void CheckRoundTrip(const Packet& packet, size_t consumed, ProtocolVersion v,
                    const DecoderOptions& o) {
  ProtocolVersion ev = v;
  if (const auto* c = std::get_if<Connect>(&packet)) ev = c->version;
  EncodeOptions eo;
  eo.version = ev;
  std::vector<uint8_t> bytes;
  cistern::Status s = EncodeClientPacket(packet, eo, &bytes);
  if (!s.ok()) std::fprintf(stderr, "re-encode: %s\n", s.message().c_str());
  FUZZ_CHECK(s.ok());
  FUZZ_CHECK(bytes.size() <= consumed);
  DecodeResult again = Decode(bytes, v, o);
  const auto* d = std::get_if<Decoded>(&again);
  FUZZ_CHECK(d != nullptr);
  FUZZ_CHECK(d->consumed == bytes.size());
  FUZZ_CHECK(d->packet == packet);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  static constexpr uint32_t kMaxSizes[] = {1u << 20, 4096, 300, 64};
  DecoderOptions o;
  o.maximum_packet_size = kMaxSizes[(mode >> 2) & 3];
  o.retain_available = (mode & 0x10) != 0;
  o.maximum_qos = (mode & 0x20) ? 1 : 2;
  o.topic_alias_maximum = (mode & 0x40) ? 10 : 0;
  ProtocolVersion v = ProtocolVersion::kUnknown;
  if ((mode & 3) == 1) v = ProtocolVersion::kV311;
  if ((mode & 3) == 2) v = ProtocolVersion::kV5;

  // A copy the size of the stream, so ASan sees any read past what was received.
  const std::vector<uint8_t> stream(data + 1, data + size);
  std::span<const uint8_t> rest(stream);
  while (true) {
    DecodeResult r = Decode(rest, v, o);
    if (const auto* need = std::get_if<NeedMore>(&r)) {
      FUZZ_CHECK(need->total_bytes > rest.size());
      FUZZ_CHECK(need->total_bytes <= std::max<size_t>(o.maximum_packet_size, 5));
      break;
    }
    if (const auto* e = std::get_if<DecodeError>(&r)) {
      FUZZ_CHECK(!rest.empty());
      CheckError(*e, rest[0]);
      break;  // the session closes the connection
    }
    const Decoded& d = std::get<Decoded>(r);
    FUZZ_CHECK(d.consumed >= 2 && d.consumed <= rest.size());
    FUZZ_CHECK(d.consumed <= o.maximum_packet_size);
    CheckPacket(d.packet, v, o);
    // Strict prefixes: the header alone, and all but the last byte.
    for (size_t k : {size_t{1}, size_t{2}, d.consumed - 1}) {
      if (k >= d.consumed) continue;
      DecodeResult partial = Decode(rest.first(k), v, o);
      const auto* need = std::get_if<NeedMore>(&partial);
      FUZZ_CHECK(need != nullptr);
      FUZZ_CHECK(need->total_bytes > k && need->total_bytes <= d.consumed);
    }
    CheckRoundTrip(d.packet, d.consumed, v, o);
    if (const auto* c = std::get_if<Connect>(&d.packet)) v = c->version;
    rest = rest.subspan(d.consumed);
  }
  return 0;
}
