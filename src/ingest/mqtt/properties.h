// MQTT 5.0 properties (section 2.2.2): the property section of every 5.0 packet, read from and
// written to the wire against table 2-4 (which identifier may appear in which packet).
//
// Pure functions. Thread-safety: none needed.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "ingest/mqtt/packet.h"
#include "ingest/mqtt/wire.h"

namespace cistern::mqtt {

// Where a property section sits: the packet types of table 2-4, plus the Will Properties of
// CONNECT (3.1.3.2). kPubResponse covers PUBACK, PUBREC, PUBREL and PUBCOMP.
enum class PropertyContext : uint8_t {
  kConnect,
  kWill,
  kConnAck,
  kPublish,
  kPubResponse,
  kSubscribe,
  kSubAck,
  kUnsubscribe,
  kUnsubAck,
  kDisconnect,
  kAuth,
};

// Reads a property section (a Variable Byte Integer Property Length, then the properties) at
// the reader's position into *out (which must be default-constructed). On failure returns
// false with the error recorded in `r`:
//  - 0x81 Malformed Packet: an identifier that does not exist or is not allowed in `context`
//    (2.2.2.2), a value that runs past the section, a section that runs past the packet, a
//    string that is not valid UTF-8 (1.5.4);
//  - 0x82 Protocol Error: a property given twice where the spec forbids it (every one but User
//    Property, and Subscription Identifier in PUBLISH), or a value the spec forbids: Payload
//    Format Indicator, Request Problem/Response Information and the CONNACK booleans not 0 or 1,
//    Receive Maximum or Maximum Packet Size 0, Subscription Identifier 0 (3.8.2.1.2), a Response
//    Topic that is empty or has a wildcard (MQTT-3.3.2-14, MQTT-4.7.3-1).
// Checks that depend on other fields or on the server's settings (Topic Alias range,
// Authentication Data without a Method, ...) are the packet decoder's.
bool ReadProperties(Reader& r, PropertyContext context, Properties* out);

// Appends `p` as a property section (Property Length + properties, identifiers in ascending
// order, User Properties in their order) to *out. Returns InvalidArgument, with *out
// unchanged, when a set field is not allowed in `context`, a value is one the spec forbids (the
// same rules as ReadProperties), a string or binary field is longer than 65,535 bytes, or the
// section is longer than a Variable Byte Integer can say.
Status AppendProperties(const Properties& p, PropertyContext context, std::vector<uint8_t>* out);

}  // namespace cistern::mqtt
