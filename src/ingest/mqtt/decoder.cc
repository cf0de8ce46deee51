#include "ingest/mqtt/decoder.h"

#include <string>
#include <utility>

#include "ingest/mqtt/decode_body.h"
#include "ingest/mqtt/properties.h"

namespace cistern::mqtt {
namespace internal {

bool CheckTopicName(Reader& r, const std::string& topic, const char* what) {
  if (HasWildcard(topic)) {
    return r.Fail(ReasonCode::kTopicNameInvalid,
                  std::string(what) + " contains a wildcard (MQTT-3.3.2-2, MQTT-4.7.0-1)");
  }
  if (topic.empty()) {
    return r.Fail(ReasonCode::kProtocolError, std::string(what) + " is empty (MQTT-4.7.3-1)");
  }
  return true;
}

bool ExpectEnd(Reader& r, const char* packet) {
  if (r.empty()) return true;
  return r.Fail(ReasonCode::kMalformedPacket, std::to_string(r.remaining()) +
                                                  " bytes after the last field of " + packet +
                                                  " (Remaining Length)");
}

}  // namespace internal

namespace {

using internal::CheckTopicName;
using internal::ExpectEnd;

DecodeError Error(ReasonCode reason, std::string message) {
  DecodeError e;
  e.reason = reason;
  e.message = std::move(message);
  return e;
}

bool ReadPacketId(Reader& r, uint16_t* id, const char* packet) {
  if (!r.ReadU16(id, "Packet Identifier")) return false;
  if (*id == 0) {
    return r.Fail(ReasonCode::kProtocolError,
                  std::string(packet) + " with Packet Identifier 0 (2.2.1)");
  }
  return true;
}

// A Reason Code byte that must be one of `type`'s (0x82 otherwise: data the protocol does not
// allow, 4.13).
bool ReadReason(Reader& r, PacketType type, ReasonCode* out) {
  uint8_t code;
  if (!r.ReadByte(&code, "Reason Code")) return false;
  if (!IsValidReasonCode(type, static_cast<ReasonCode>(code))) {
    return r.Fail(ReasonCode::kProtocolError, std::string(PacketTypeName(type)) +
                                                  " with Reason Code " + std::to_string(code) +
                                                  ", not one of its reason codes (2.4)");
  }
  *out = static_cast<ReasonCode>(code);
  return true;
}

bool DecodePublish(Reader& r, const FixedHeader& h, ProtocolVersion v, const DecoderOptions& o,
                   Publish* out) {
  const bool v5 = v == ProtocolVersion::kV5;
  out->dup = (h.flags & 0x08) != 0;
  out->qos = (h.flags >> 1) & 0x03;
  out->retain = (h.flags & 0x01) != 0;
  if (!r.ReadString(&out->topic, "Topic Name")) return false;
  if (out->qos > 0 && !ReadPacketId(r, &out->packet_id, "PUBLISH")) return false;
  if (v5 && !ReadProperties(r, PropertyContext::kPublish, &out->properties)) return false;
  r.ReadRest(&out->payload);

  const Properties& p = out->properties;
  if (!p.subscription_identifiers.empty()) {
    return r.Fail(ReasonCode::kProtocolError,
                  "PUBLISH from a client with a Subscription Identifier (MQTT-3.3.4-6)");
  }
  if (p.topic_alias && (*p.topic_alias == 0 || *p.topic_alias > o.topic_alias_maximum)) {
    return r.Fail(ReasonCode::kTopicAliasInvalid,
                  "Topic Alias " + std::to_string(*p.topic_alias) + " is not in 1.." +
                      std::to_string(o.topic_alias_maximum) + " (3.3.2.3.4)");
  }
  if (!(out->topic.empty() && p.topic_alias) && !CheckTopicName(r, out->topic, "Topic Name")) {
    return false;
  }
  if (v5 && out->retain && !o.retain_available) {
    return r.Fail(ReasonCode::kRetainNotSupported,
                  "PUBLISH with RETAIN and retained messages are not available (3.3.1.3)");
  }
  if (v5 && out->qos > o.maximum_qos) {
    return r.Fail(ReasonCode::kQosNotSupported, "PUBLISH QoS " + std::to_string(out->qos) +
                                                    " is above the maximum " +
                                                    std::to_string(o.maximum_qos) + " (3.2.2.3.4)");
  }
  return true;
}

bool DecodePublishResponse(Reader& r, const FixedHeader& h, ProtocolVersion v,
                           PublishResponse* out) {
  const std::string name(PacketTypeName(h.type));
  out->type = h.type;
  if (!ReadPacketId(r, &out->packet_id, name.c_str())) return false;
  // 5.0: the Reason Code may be omitted (Remaining Length 2, Success), and the Property Length
  // too (Remaining Length 3) (3.4.2.1). 3.1.1: exactly the Packet Identifier.
  if (v == ProtocolVersion::kV5 && !r.empty()) {
    if (!ReadReason(r, h.type, &out->reason)) return false;
    if (!r.empty() && !ReadProperties(r, PropertyContext::kPubResponse, &out->properties)) {
      return false;
    }
  }
  return ExpectEnd(r, name.c_str());
}

bool ReadFilter(Reader& r, std::string* filter, const char* packet) {
  if (!r.ReadString(filter, "Topic Filter")) return false;
  if (filter->empty()) {
    return r.Fail(ReasonCode::kProtocolError,
                  std::string(packet) + " with an empty Topic Filter (MQTT-4.7.3-1)");
  }
  return true;
}

bool DecodeSubscribe(Reader& r, ProtocolVersion v, Subscribe* out) {
  const bool v5 = v == ProtocolVersion::kV5;
  if (!ReadPacketId(r, &out->packet_id, "SUBSCRIBE")) return false;
  if (v5 && !ReadProperties(r, PropertyContext::kSubscribe, &out->properties)) return false;
  if (r.empty()) {
    return r.Fail(ReasonCode::kProtocolError, "SUBSCRIBE without a Topic Filter (3.8.3)");
  }
  while (!r.empty()) {
    Subscription s;
    uint8_t options;
    if (!ReadFilter(r, &s.filter, "SUBSCRIBE") || !r.ReadByte(&options, "Subscription Options")) {
      return false;
    }
    const uint8_t reserved = v5 ? 0xC0 : 0xFC;
    if (options & reserved) {
      return r.Fail(ReasonCode::kMalformedPacket,
                    "Subscription Options reserved bits set (MQTT-3.8.3-5; 3.1.1: MQTT-3-8.3-4)");
    }
    s.max_qos = options & 0x03;
    if (s.max_qos == 3) {
      return r.Fail(v5 ? ReasonCode::kProtocolError : ReasonCode::kMalformedPacket,
                    "Subscription Options with QoS 3 (3.8.3.1)");
    }
    s.no_local = (options & 0x04) != 0;
    s.retain_as_published = (options & 0x08) != 0;
    s.retain_handling = (options >> 4) & 0x03;
    if (s.retain_handling == 3) {
      return r.Fail(ReasonCode::kProtocolError, "Retain Handling 3 (3.8.3.1)");
    }
    if (s.no_local && s.filter.starts_with("$share/")) {
      return r.Fail(ReasonCode::kProtocolError, "No Local on a shared subscription (MQTT-3.8.3-4)");
    }
    out->subscriptions.push_back(std::move(s));
  }
  return true;
}

bool DecodeUnsubscribe(Reader& r, ProtocolVersion v, Unsubscribe* out) {
  if (!ReadPacketId(r, &out->packet_id, "UNSUBSCRIBE")) return false;
  if (v == ProtocolVersion::kV5 &&
      !ReadProperties(r, PropertyContext::kUnsubscribe, &out->properties)) {
    return false;
  }
  if (r.empty()) {
    return r.Fail(ReasonCode::kProtocolError, "UNSUBSCRIBE without a Topic Filter (3.10.3)");
  }
  while (!r.empty()) {
    if (!ReadFilter(r, &out->filters.emplace_back(), "UNSUBSCRIBE")) return false;
  }
  return true;
}

// 5.0 DISCONNECT: Remaining Length 0 means Normal disconnection, 1 a Reason Code without
// properties (3.14.2.1, 3.14.2.2.1). 3.1.1: always empty.
bool DecodeDisconnect(Reader& r, ProtocolVersion v, Disconnect* out) {
  if (v == ProtocolVersion::kV5 && !r.empty()) {
    if (!ReadReason(r, PacketType::kDisconnect, &out->reason)) return false;
    if (!r.empty() && !ReadProperties(r, PropertyContext::kDisconnect, &out->properties)) {
      return false;
    }
  }
  return ExpectEnd(r, "DISCONNECT");
}

bool DecodeAuth(Reader& r, Auth* out) {
  if (r.empty()) return true;  // Success without properties (3.15.2.1)
  if (!ReadReason(r, PacketType::kAuth, &out->reason)) return false;
  if (!r.empty() && !ReadProperties(r, PropertyContext::kAuth, &out->properties)) return false;
  if (!out->properties.authentication_method) {
    return r.Fail(ReasonCode::kProtocolError, "AUTH without Authentication Method (3.15.2.2.2)");
  }
  return ExpectEnd(r, "AUTH");
}

DecodeError ConnectError(DecodeError e, ProtocolVersion version) {
  if (e.connack_version != ProtocolVersion::kUnknown) return e;  // set by the protocol check
  if (version == ProtocolVersion::kV5 ||
      (version == ProtocolVersion::kV311 && ToV311ConnectReturnCode(e.reason))) {
    e.connack_version = version;
  }
  return e;
}

// Checks the first byte: a type a client may send now, with its reserved flags (2.1.2, 2.1.3).
std::optional<DecodeError> CheckTypeAndFlags(uint8_t byte, ProtocolVersion version) {
  const auto type = static_cast<PacketType>(byte >> 4);
  const uint8_t flags = byte & 0x0F;
  const std::string name(PacketTypeName(type));
  if (version == ProtocolVersion::kUnknown && type != PacketType::kConnect) {
    return Error(ReasonCode::kProtocolError,
                 "first packet is " + name + ", not CONNECT (MQTT-3.1.0-1)");
  }
  switch (type) {
    case PacketType::kConnect:
      if (version != ProtocolVersion::kUnknown) {
        return Error(ReasonCode::kProtocolError, "second CONNECT (MQTT-3.1.0-2)");
      }
      break;
    case PacketType::kPublish:
      if ((flags & 0x06) == 0x06)
        return Error(ReasonCode::kMalformedPacket, "PUBLISH QoS 3 (MQTT-3.3.1-4)");
      if ((flags & 0x0E) == 0x08) {
        return Error(ReasonCode::kMalformedPacket, "PUBLISH QoS 0 with DUP (MQTT-3.3.1-2)");
      }
      return std::nullopt;
    case PacketType::kPubAck:
    case PacketType::kPubRec:
    case PacketType::kPubComp:
    case PacketType::kPingReq:
    case PacketType::kDisconnect:
      break;
    case PacketType::kPubRel:
    case PacketType::kSubscribe:
    case PacketType::kUnsubscribe:
      if (flags != 0x02) {
        return Error(ReasonCode::kMalformedPacket,
                     name + " fixed header flags are not 0010 (2.1.3)");
      }
      return std::nullopt;
    case PacketType::kAuth:
      if (version != ProtocolVersion::kV5) {
        return Error(ReasonCode::kMalformedPacket, "packet type 15 is reserved in MQTT 3.1.1");
      }
      break;
    case PacketType::kConnAck:
    case PacketType::kSubAck:
    case PacketType::kUnsubAck:
    case PacketType::kPingResp:
      return Error(ReasonCode::kProtocolError, name + " is sent by servers, not clients");
    default:
      return Error(ReasonCode::kMalformedPacket, "packet type 0 is reserved (2.1.2)");
  }
  if (flags != 0) {
    return Error(ReasonCode::kMalformedPacket, name + " fixed header flags are not 0000 (2.1.3)");
  }
  return std::nullopt;
}

std::string Size(uint64_t n) { return std::to_string(n) + " bytes"; }

}  // namespace

std::variant<NeedMore, FixedHeader, DecodeError> ReadFixedHeader(std::span<const uint8_t> buffer,
                                                                 ProtocolVersion version,
                                                                 const DecoderOptions& options) {
  if (buffer.empty()) return NeedMore{1};
  if (auto e = CheckTypeAndFlags(buffer[0], version)) return *std::move(e);
  const VbiResult rl = DecodeVariableByteInteger(buffer.subspan(1));
  if (rl.status == VbiStatus::kMalformed) {
    return Error(ReasonCode::kMalformedPacket,
                 "Remaining Length is not a valid Variable Byte Integer (1.5.5)");
  }
  // 1 type byte + length bytes + length: the smallest size the packet can have so far.
  const size_t length_bytes = rl.status == VbiStatus::kOk ? rl.length : rl.length + 1;
  const uint64_t at_least =
      1 + length_bytes + uint64_t{rl.status == VbiStatus::kOk ? rl.value : rl.lower_bound};
  if (at_least > options.maximum_packet_size) {
    return Error(ReasonCode::kPacketTooLarge,
                 "packet of " + (rl.status == VbiStatus::kOk ? "" : std::string("at least ")) +
                     Size(at_least) + " is larger than the maximum of " +
                     Size(options.maximum_packet_size));
  }
  if (rl.status == VbiStatus::kNeedMore) return NeedMore{buffer.size() + 1};
  FixedHeader h;
  h.type = static_cast<PacketType>(buffer[0] >> 4);
  h.flags = buffer[0] & 0x0F;
  h.remaining_length = rl.value;
  h.header_size = 1 + rl.length;
  return h;
}

DecodeResult Decode(std::span<const uint8_t> buffer, ProtocolVersion version,
                    const DecoderOptions& options) {
  auto header = ReadFixedHeader(buffer, version, options);
  if (auto* need = std::get_if<NeedMore>(&header)) return *need;
  if (auto* error = std::get_if<DecodeError>(&header)) return std::move(*error);
  const FixedHeader& h = std::get<FixedHeader>(header);
  if (buffer.size() < h.packet_size()) return NeedMore{h.packet_size()};

  Reader r(buffer.subspan(h.header_size, h.remaining_length));
  Decoded d;
  d.consumed = h.packet_size();
  bool ok = false;
  switch (h.type) {
    case PacketType::kConnect: {
      ProtocolVersion seen;
      ok = internal::DecodeConnect(r, options, &d.packet.emplace<Connect>(), &seen);
      if (!ok) return ConnectError(r.error(), seen);
      break;
    }
    case PacketType::kPublish:
      ok = DecodePublish(r, h, version, options, &d.packet.emplace<Publish>());
      break;
    case PacketType::kPubAck:
    case PacketType::kPubRec:
    case PacketType::kPubRel:
    case PacketType::kPubComp:
      ok = DecodePublishResponse(r, h, version, &d.packet.emplace<PublishResponse>());
      break;
    case PacketType::kSubscribe:
      ok = DecodeSubscribe(r, version, &d.packet.emplace<Subscribe>());
      break;
    case PacketType::kUnsubscribe:
      ok = DecodeUnsubscribe(r, version, &d.packet.emplace<Unsubscribe>());
      break;
    case PacketType::kPingReq:
      d.packet.emplace<PingReq>();
      ok = ExpectEnd(r, "PINGREQ");
      break;
    case PacketType::kDisconnect:
      ok = DecodeDisconnect(r, version, &d.packet.emplace<Disconnect>());
      break;
    case PacketType::kAuth:
      ok = DecodeAuth(r, &d.packet.emplace<Auth>());
      break;
    default:  // refused by ReadFixedHeader
      return Error(ReasonCode::kMalformedPacket, "unexpected packet type");
  }
  if (!ok) return r.error();
  return d;
}

Properties AdvertisedProperties(const DecoderOptions& options) {
  Properties p;
  if (options.maximum_packet_size < kMaxPacketSize) {
    p.maximum_packet_size = options.maximum_packet_size;
  }
  if (!options.retain_available) p.retain_available = 0;
  if (options.maximum_qos < 2) p.maximum_qos = options.maximum_qos;
  if (options.topic_alias_maximum > 0) p.topic_alias_maximum = options.topic_alias_maximum;
  p.wildcard_subscription_available = 0;
  p.subscription_identifier_available = 0;
  p.shared_subscription_available = 0;
  return p;
}

ReasonCode CheckPayloadFormat(const Publish& publish) {
  if (publish.properties.payload_format_indicator == 1 && !IsWellFormedUtf8(publish.payload)) {
    return ReasonCode::kPayloadFormatInvalid;
  }
  return ReasonCode::kSuccess;
}

}  // namespace cistern::mqtt
