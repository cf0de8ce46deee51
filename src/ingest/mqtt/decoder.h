// The incremental framer/decoder for the packets MQTT clients send to Cistern (3.1.1 and 5.0).
//
// Use (one connection): keep the bytes received and not yet consumed in one buffer, starting
// at a packet boundary, and call Decode after each read:
//   - NeedMore{n}: read until the buffer holds at least n bytes, then call again. n never
//     exceeds options.maximum_packet_size (nor 5 while the fixed header is incomplete), so a
//     connection's buffer stays bounded whatever the peer claims.
//   - Decoded{packet, consumed}: handle the packet, drop `consumed` bytes from the front and
//     call again (more packets may already be buffered).
//   - DecodeError: refuse the connection. 5.0: send CONNACK (error.connack_version set, only for
//     a CONNECT) or DISCONNECT with error.reason, then close. 3.1.1: send the CONNACK when
//     error.connack_version says so, then close.
// `version` is what the session knows: kUnknown until a CONNECT was decoded (then only a
// CONNECT is accepted, MQTT-3.1.0-1), afterwards that CONNECT's Connect::version (and a second
// CONNECT is a Protocol Error, MQTT-3.1.0-2).
//
// Decode is a pure function: no state, no allocation until the whole packet is in the buffer
// (so none proportional to a length the peer merely announced), never reads outside `buffer`.
// Thread-safety: none needed. The decoded packet owns copies of its strings and bytes.
//
// What it validates (section numbers of the 5.0 spec; the same rules of 3.1.1 apply to it):
//  - framing: packet type valid for a client (server-only types: 0x82; reserved 0 and AUTH in
//    3.1.1: 0x81), reserved flag bits (2.1.3, 0x81), Remaining Length a minimal Variable Byte
//    Integer of at most 4 bytes (1.5.5, 0x81), packet size <= maximum_packet_size (0x95,
//    refused as soon as the Remaining Length is known, or provably too large);
//  - every field inside the Remaining Length and the Remaining Length fully used (0x81);
//  - UTF-8 strings well-formed without U+0000 (1.5.4, 0x81); properties per properties.h;
//  - CONNECT: protocol name/level (0x84), reserved flag and Will flag rules (0x81), 3.1.1
//    Password without User Name (0x81) and empty Client Identifier without Clean Session
//    (0x85), Will Topic (0x90 wildcard, 0x82 empty), Will payload UTF-8 when its Payload Format
//    Indicator is 1 (0x99), Authentication Data without Method (0x82); and Cistern's refusals:
//    an Authentication Method (enhanced auth unsupported: 0x8C), 5.0 Will Retain when
//    !retain_available (0x9A), 5.0 Will QoS above maximum_qos (0x9B);
//  - PUBLISH: QoS 3 and DUP with QoS 0 (0x81), packet id != 0 for QoS > 0 (0x82), Topic Name
//    without wildcards (0x90) and non-empty unless a 5.0 Topic Alias stands in (0x82), Topic
//    Alias in 1..topic_alias_maximum (0x94), no Subscription Identifier (MQTT-3.3.4-6, 0x82),
//    5.0 RETAIN when !retain_available (0x9A), 5.0 QoS above maximum_qos (0x9B);
//  - PUBACK/PUBREC/PUBREL/PUBCOMP, SUBSCRIBE, UNSUBSCRIBE: packet id != 0 (0x82), reason codes
//    from the packet's list (0x82), at least one (non-empty) Topic Filter (0x82), Subscription
//    Options reserved bits (0x81), QoS 3 (3.1.1: 0x81; 5.0: 0x82), Retain Handling 3 (0x82),
//    No Local on a shared subscription (0x82);
//  - PINGREQ, 3.1.1 DISCONNECT: empty (0x81); 5.0 DISCONNECT and AUTH reason codes (0x82), AUTH
//    with properties but no Authentication Method (0x82).
// Not checked here (session state): packet ids in use, Receive Maximum, Topic Alias mapping,
// a 5.0 DISCONNECT that raises a zero Session Expiry Interval, an AUTH on a connection that
// negotiated no enhanced auth (all of them), a PUBLISH payload against its Payload Format
// Indicator (CheckPayloadFormat, for a PUBACK 0x99 instead of a disconnect).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include "ingest/mqtt/packet.h"
#include "ingest/mqtt/wire.h"

namespace cistern::mqtt {

// What the server accepts. The same values must be advertised to 5.0 clients in CONNACK:
// AdvertisedProperties gives the properties that say so.
struct DecoderOptions {
  // Largest packet accepted, in bytes, fixed header included (the 5.0 Maximum Packet Size,
  // 3.2.2.3.6). Larger packets: 0x95 Packet too large.
  uint32_t maximum_packet_size = 1 << 20;
  // 5.0: Topic Alias values 1..topic_alias_maximum are accepted; 0 = none (3.2.2.3.8).
  uint16_t topic_alias_maximum = 0;
  // 5.0: whether RETAIN = 1 is accepted (PUBLISH and Will). Cistern is no broker: no.
  bool retain_available = false;
  // 5.0: the highest QoS accepted (PUBLISH and Will), 0..2.
  uint8_t maximum_qos = 2;
};

struct NeedMore {
  size_t total_bytes = 0;  // the buffer must hold at least this many bytes (from its start)
  bool operator==(const NeedMore&) const = default;
};

struct Decoded {
  Packet packet;
  size_t consumed = 0;  // the packet's size; <= buffer.size()
};

using DecodeResult = std::variant<NeedMore, Decoded, DecodeError>;

DecodeResult Decode(std::span<const uint8_t> buffer, ProtocolVersion version,
                    const DecoderOptions& options);

// The fixed header (2.1.1) alone: what Decode checks before the body has arrived.
struct FixedHeader {
  PacketType type = PacketType::kConnect;
  uint8_t flags = 0;
  uint32_t remaining_length = 0;
  size_t header_size = 0;  // 2..5
  size_t packet_size() const { return header_size + remaining_length; }
  bool operator==(const FixedHeader&) const = default;
};

std::variant<NeedMore, FixedHeader, DecodeError> ReadFixedHeader(std::span<const uint8_t> buffer,
                                                                 ProtocolVersion version,
                                                                 const DecoderOptions& options);

// The CONNACK properties (5.0) that tell a client what `options` enforce: Maximum Packet Size,
// Retain Available, Maximum QoS and Topic Alias Maximum when they differ from the protocol's
// defaults, and Wildcard/Subscription Identifier/Shared Subscription Available = 0 (Cistern
// accepts no subscriptions).
Properties AdvertisedProperties(const DecoderOptions& options);

// kPayloadFormatInvalid when a PUBLISH says its payload is UTF-8 (Payload Format Indicator 1)
// and it is not well-formed UTF-8 (3.3.2.3.2); kSuccess otherwise. For a PUBACK/PUBREC 0x99.
ReasonCode CheckPayloadFormat(const Publish& publish);

}  // namespace cistern::mqtt
