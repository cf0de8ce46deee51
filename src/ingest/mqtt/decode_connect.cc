// CONNECT (5.0 section 3.1; 3.1.1 section 3.1).
#include <string>

#include "ingest/mqtt/decode_body.h"
#include "ingest/mqtt/properties.h"

namespace cistern::mqtt::internal {
namespace {

constexpr uint8_t kUserNameFlag = 0x80;
constexpr uint8_t kPasswordFlag = 0x40;
constexpr uint8_t kWillRetainFlag = 0x20;
constexpr uint8_t kWillQosMask = 0x18;
constexpr uint8_t kWillFlag = 0x04;
constexpr uint8_t kCleanStartFlag = 0x02;
constexpr uint8_t kReservedFlag = 0x01;

// Protocol Name and Level (3.1.2.1, 3.1.2.2). Sets *version for MQTT 3.1.1 and 5.0 only.
bool ReadProtocol(Reader& r, ProtocolVersion* version) {
  std::string name;
  uint8_t level;
  if (!r.ReadString(&name, "Protocol Name") || !r.ReadByte(&level, "Protocol Level")) {
    return false;
  }
  if (name == "MQTT" && (level == 4 || level == 5)) {
    *version = static_cast<ProtocolVersion>(level);
    return true;
  }
  DecodeError e;
  e.reason = ReasonCode::kUnsupportedProtocolVersion;
  if (name == "MQTT" || (name == "MQIsdp" && level == 3)) {
    // An MQTT client at a level we do not speak (3.1 is "MQIsdp" level 3): answer with the
    // 3.1.1 CONNACK, return code 1, which every version before 5.0 reads
    // (3.1.1: MQTT-3.1.2-2; 5.0: MQTT-3.1.2-2 permits 0x84).
    e.connack_version = ProtocolVersion::kV311;
    e.message = "unsupported protocol: " + name + " level " + std::to_string(level);
  } else {
    // Not MQTT at all: close without revealing anything (3.1.2.1).
    e.message = "not an MQTT CONNECT (protocol name is not \"MQTT\")";
  }
  return r.Fail(std::move(e));
}

bool ReadWill(Reader& r, ProtocolVersion version, uint8_t flags, Will* will) {
  will->qos = (flags & kWillQosMask) >> 3;
  will->retain = (flags & kWillRetainFlag) != 0;
  if (version == ProtocolVersion::kV5 &&
      !ReadProperties(r, PropertyContext::kWill, &will->properties)) {
    return false;
  }
  if (!r.ReadString(&will->topic, "Will Topic") || !CheckTopicName(r, will->topic, "Will Topic") ||
      !r.ReadBinary(&will->payload, "Will Payload")) {
    return false;
  }
  if (will->properties.payload_format_indicator == 1 && !IsWellFormedUtf8(will->payload)) {
    return r.Fail(ReasonCode::kPayloadFormatInvalid,
                  "Will Payload is not UTF-8 but its Payload Format Indicator says so "
                  "(3.1.3.2.3)");
  }
  return true;
}

}  // namespace

bool DecodeConnect(Reader& r, const DecoderOptions& options, Connect* out,
                   ProtocolVersion* version) {
  *version = ProtocolVersion::kUnknown;
  if (!ReadProtocol(r, version)) return false;
  out->version = *version;
  const bool v5 = *version == ProtocolVersion::kV5;

  uint8_t flags;
  if (!r.ReadByte(&flags, "Connect Flags") || !r.ReadU16(&out->keep_alive, "Keep Alive")) {
    return false;
  }
  if (flags & kReservedFlag) {
    return r.Fail(ReasonCode::kMalformedPacket, "CONNECT reserved flag is 1 (MQTT-3.1.2-3)");
  }
  const bool will = (flags & kWillFlag) != 0;
  if (!will && (flags & (kWillQosMask | kWillRetainFlag))) {
    return r.Fail(ReasonCode::kMalformedPacket,
                  "Will QoS/Retain set without the Will Flag (MQTT-3.1.2-11, MQTT-3.1.2-13)");
  }
  if ((flags & kWillQosMask) == kWillQosMask) {
    return r.Fail(ReasonCode::kMalformedPacket, "Will QoS 3 (MQTT-3.1.2-12)");
  }
  if (!v5 && (flags & kPasswordFlag) && !(flags & kUserNameFlag)) {
    return r.Fail(ReasonCode::kMalformedPacket,
                  "Password Flag without User Name Flag (3.1.1: MQTT-3.1.2-22)");
  }
  out->clean_start = (flags & kCleanStartFlag) != 0;

  if (v5 && !ReadProperties(r, PropertyContext::kConnect, &out->properties)) return false;

  // Payload (3.1.3): Client Identifier, Will, User Name, Password, in this order.
  if (!r.ReadString(&out->client_id, "Client Identifier")) return false;
  if (!v5 && out->client_id.empty() && !out->clean_start) {
    return r.Fail(ReasonCode::kClientIdentifierNotValid,
                  "empty Client Identifier with Clean Session 0 (3.1.1: MQTT-3.1.3-8)");
  }
  if (will && !ReadWill(r, *version, flags, &out->will.emplace())) return false;
  if (flags & kUserNameFlag) {
    if (!r.ReadString(&out->username.emplace(), "User Name")) return false;
  }
  if (flags & kPasswordFlag) {
    if (!r.ReadBinary(&out->password.emplace(), "Password")) return false;
  }
  if (!ExpectEnd(r, "CONNECT")) return false;

  // The packet is well-formed; now what this server does not accept.
  if (!v5) return true;
  const Properties& p = out->properties;
  if (p.authentication_data && !p.authentication_method) {
    return r.Fail(ReasonCode::kProtocolError,
                  "Authentication Data without Authentication Method (3.1.2.11.10)");
  }
  if (p.authentication_method) {
    return r.Fail(
        ReasonCode::kBadAuthenticationMethod,
        "enhanced authentication (" + *p.authentication_method + ") is not supported (4.12)");
  }
  if (out->will && out->will->retain && !options.retain_available) {
    return r.Fail(ReasonCode::kRetainNotSupported,
                  "Will Retain is set and retained messages are not available (MQTT-3.2.2-13)");
  }
  if (out->will && out->will->qos > options.maximum_qos) {
    return r.Fail(ReasonCode::kQosNotSupported,
                  "Will QoS " + std::to_string(out->will->qos) + " is above the maximum " +
                      std::to_string(options.maximum_qos) + " (3.2.2.3.4)");
  }
  return true;
}

}  // namespace cistern::mqtt::internal
