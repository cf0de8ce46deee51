#include "ingest/mqtt/packet.h"

namespace cistern::mqtt {

std::string_view PacketTypeName(PacketType type) {
  switch (type) {
    case PacketType::kConnect:
      return "CONNECT";
    case PacketType::kConnAck:
      return "CONNACK";
    case PacketType::kPublish:
      return "PUBLISH";
    case PacketType::kPubAck:
      return "PUBACK";
    case PacketType::kPubRec:
      return "PUBREC";
    case PacketType::kPubRel:
      return "PUBREL";
    case PacketType::kPubComp:
      return "PUBCOMP";
    case PacketType::kSubscribe:
      return "SUBSCRIBE";
    case PacketType::kSubAck:
      return "SUBACK";
    case PacketType::kUnsubscribe:
      return "UNSUBSCRIBE";
    case PacketType::kUnsubAck:
      return "UNSUBACK";
    case PacketType::kPingReq:
      return "PINGREQ";
    case PacketType::kPingResp:
      return "PINGRESP";
    case PacketType::kDisconnect:
      return "DISCONNECT";
    case PacketType::kAuth:
      return "AUTH";
  }
  return "reserved";
}

PacketType PacketTypeOf(const Packet& packet) {
  struct Visitor {
    PacketType operator()(const Connect&) const { return PacketType::kConnect; }
    PacketType operator()(const Publish&) const { return PacketType::kPublish; }
    PacketType operator()(const PublishResponse& p) const { return p.type; }
    PacketType operator()(const Subscribe&) const { return PacketType::kSubscribe; }
    PacketType operator()(const Unsubscribe&) const { return PacketType::kUnsubscribe; }
    PacketType operator()(const PingReq&) const { return PacketType::kPingReq; }
    PacketType operator()(const Disconnect&) const { return PacketType::kDisconnect; }
    PacketType operator()(const Auth&) const { return PacketType::kAuth; }
  };
  return std::visit(Visitor{}, packet);
}

std::string_view ReasonCodeName(ReasonCode code) {
  switch (static_cast<uint8_t>(code)) {
    case 0x00:
      return "Success";
    case 0x01:
      return "Granted QoS 1";
    case 0x02:
      return "Granted QoS 2";
    case 0x04:
      return "Disconnect with Will Message";
    case 0x10:
      return "No matching subscribers";
    case 0x11:
      return "No subscription existed";
    case 0x18:
      return "Continue authentication";
    case 0x19:
      return "Re-authenticate";
    case 0x80:
      return "Unspecified error";
    case 0x81:
      return "Malformed Packet";
    case 0x82:
      return "Protocol Error";
    case 0x83:
      return "Implementation specific error";
    case 0x84:
      return "Unsupported Protocol Version";
    case 0x85:
      return "Client Identifier not valid";
    case 0x86:
      return "Bad User Name or Password";
    case 0x87:
      return "Not authorized";
    case 0x88:
      return "Server unavailable";
    case 0x89:
      return "Server busy";
    case 0x8A:
      return "Banned";
    case 0x8B:
      return "Server shutting down";
    case 0x8C:
      return "Bad authentication method";
    case 0x8D:
      return "Keep Alive timeout";
    case 0x8E:
      return "Session taken over";
    case 0x8F:
      return "Topic Filter invalid";
    case 0x90:
      return "Topic Name invalid";
    case 0x91:
      return "Packet Identifier in use";
    case 0x92:
      return "Packet Identifier not found";
    case 0x93:
      return "Receive Maximum exceeded";
    case 0x94:
      return "Topic Alias invalid";
    case 0x95:
      return "Packet too large";
    case 0x96:
      return "Message rate too high";
    case 0x97:
      return "Quota exceeded";
    case 0x98:
      return "Administrative action";
    case 0x99:
      return "Payload format invalid";
    case 0x9A:
      return "Retain not supported";
    case 0x9B:
      return "QoS not supported";
    case 0x9C:
      return "Use another server";
    case 0x9D:
      return "Server moved";
    case 0x9E:
      return "Shared Subscriptions not supported";
    case 0x9F:
      return "Connection rate exceeded";
    case 0xA0:
      return "Maximum connect time";
    case 0xA1:
      return "Subscription Identifiers not supported";
    case 0xA2:
      return "Wildcard Subscriptions not supported";
  }
  return "unknown";
}

bool IsValidReasonCode(PacketType type, ReasonCode reason) {
  const auto code = static_cast<uint8_t>(reason);
  switch (type) {
    case PacketType::kConnAck:
      switch (code) {
        case 0x00:
        case 0x80:
        case 0x81:
        case 0x82:
        case 0x83:
        case 0x84:
        case 0x85:
        case 0x86:
        case 0x87:
        case 0x88:
        case 0x89:
        case 0x8A:
        case 0x8C:
        case 0x90:
        case 0x95:
        case 0x97:
        case 0x99:
        case 0x9A:
        case 0x9B:
        case 0x9C:
        case 0x9D:
        case 0x9F:
          return true;
      }
      return false;
    case PacketType::kPubAck:
    case PacketType::kPubRec:
      switch (code) {
        case 0x00:
        case 0x10:
        case 0x80:
        case 0x83:
        case 0x87:
        case 0x90:
        case 0x91:
        case 0x97:
        case 0x99:
          return true;
      }
      return false;
    case PacketType::kPubRel:
    case PacketType::kPubComp:
      return code == 0x00 || code == 0x92;
    case PacketType::kSubAck:
      switch (code) {
        case 0x00:
        case 0x01:
        case 0x02:
        case 0x80:
        case 0x83:
        case 0x87:
        case 0x8F:
        case 0x91:
        case 0x97:
        case 0x9E:
        case 0xA1:
        case 0xA2:
          return true;
      }
      return false;
    case PacketType::kUnsubAck:
      switch (code) {
        case 0x00:
        case 0x11:
        case 0x80:
        case 0x83:
        case 0x87:
        case 0x8F:
        case 0x91:
          return true;
      }
      return false;
    case PacketType::kDisconnect:
      if (code == 0x00 || code == 0x04) return true;
      switch (code) {
        case 0x84:
        case 0x85:
        case 0x86:
        case 0x88:
        case 0x8A:
        case 0x91:
        case 0x92:
          return false;
      }
      return code >= 0x80 && code <= 0xA2;
    case PacketType::kAuth:
      return code == 0x00 || code == 0x18 || code == 0x19;
    default:
      return false;
  }
}

std::optional<uint8_t> ToV311ConnectReturnCode(ReasonCode code) {
  switch (code) {
    case ReasonCode::kSuccess:
      return 0;
    case ReasonCode::kUnsupportedProtocolVersion:
      return 1;
    case ReasonCode::kClientIdentifierNotValid:
      return 2;
    case ReasonCode::kServerUnavailable:
    case ReasonCode::kServerBusy:
      return 3;
    case ReasonCode::kBadUserNameOrPassword:
      return 4;
    case ReasonCode::kNotAuthorized:
      return 5;
    default:
      return std::nullopt;
  }
}

}  // namespace cistern::mqtt
