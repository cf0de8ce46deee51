// Encoders: packet values -> MQTT 3.1.1 / 5.0 bytes.
//
// Every function appends one whole packet to *out and returns Ok, or returns an error and
// leaves *out unchanged:
//  - InvalidArgument: the value cannot be sent as asked (a reason code not listed for the
//    packet (2.4), one 3.1.1 cannot express, a property not allowed in the packet (2.2.2.2),
//    a string or binary field over 65,535 bytes or not valid UTF-8 (1.5.4), a Packet
//    Identifier 0 where one is required, a 5.0-only packet for 3.1.1, ...);
//  - TooLarge: the packet is larger than options.maximum_packet_size, the limit the peer set
//    (MQTT-3.1.2-24), even after dropping the Reason String and User Properties where the spec
//    says to drop them rather than exceed that limit (e.g. MQTT-3.2.2-19/-20, MQTT-3.4.2-2/-3).
//    The session then does not send it (MQTT-3.1.2-25).
// For 3.1.1 the properties of a value are not encoded (3.1.1 has none), so one value can be
// built for either version. Pure functions; thread-safety: none needed.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "ingest/mqtt/packet.h"

namespace cistern::mqtt {

struct EncodeOptions {
  ProtocolVersion version = ProtocolVersion::kV5;  // kV311 or kV5
  // The peer's Maximum Packet Size (its CONNECT's property 0x27); absent = the protocol maximum.
  uint32_t maximum_packet_size = kMaxPacketSize;
};

// ---- What the server sends ----

// CONNACK (3.2). 3.1.1: `reason` must map to a Connect Return Code (ToV311ConnectReturnCode).
// session_present must be false unless reason is Success (MQTT-3.2.2-4, MQTT-3.2.2-6).
Status Encode(const ConnAck& p, const EncodeOptions& o, std::vector<uint8_t>* out);
// PUBACK, PUBREC, PUBREL, PUBCOMP (3.4-3.7). 5.0 omits the Reason Code and Property Length
// when it can (3.4.2.1). 3.1.1 has no negative acknowledgement: a reason other than Success is
// refused (InvalidArgument) rather than sent as a positive one; close the connection instead.
Status Encode(const PublishResponse& p, const EncodeOptions& o, std::vector<uint8_t>* out);
// SUBACK (3.9). 3.1.1: granted QoS 0-2 as is, every failure code (>= 0x80) as 0x80.
Status Encode(const SubAck& p, const EncodeOptions& o, std::vector<uint8_t>* out);
// UNSUBACK (3.11). 3.1.1: the Packet Identifier only; reasons are ignored.
Status Encode(const UnsubAck& p, const EncodeOptions& o, std::vector<uint8_t>* out);
// PINGRESP (3.13).
Status Encode(const PingResp& p, const EncodeOptions& o, std::vector<uint8_t>* out);
// DISCONNECT sent by a server (3.14): 5.0 only, never with a Session Expiry Interval
// (MQTT-3.14.2-2).
Status Encode(const Disconnect& p, const EncodeOptions& o, std::vector<uint8_t>* out);

// ---- What a client sends (for tests, the fuzz target's round trips, tools) ----

// Encodes any client packet as a client would send it. CONNECT is encoded at
// Connect::version, which must equal o.version. Checks only what the wire format needs
// (lengths, UTF-8, QoS/packet id consistency, property placement), not every rule Decode
// enforces, so tests can build packets that Decode must refuse.
Status EncodeClientPacket(const Packet& p, const EncodeOptions& o, std::vector<uint8_t>* out);

}  // namespace cistern::mqtt
