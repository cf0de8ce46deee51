#include "ingest/mqtt/encoder.h"

#include <string>
#include <string_view>
#include <utility>

#include "ingest/mqtt/properties.h"
#include "ingest/mqtt/wire.h"

namespace cistern::mqtt {
namespace {

using C = PropertyContext;

Status Invalid(std::string m) { return Status::InvalidArgument("MQTT encode: " + std::move(m)); }

bool IsV5(const EncodeOptions& o) { return o.version == ProtocolVersion::kV5; }

Status CheckVersion(const EncodeOptions& o) {
  if (o.version != ProtocolVersion::kV311 && o.version != ProtocolVersion::kV5) {
    return Invalid("protocol version must be 3.1.1 or 5.0");
  }
  return Status::Ok();
}

// A body under construction; the first failure sticks.
class Body {
 public:
  explicit Body(const EncodeOptions& o) : v5_(IsV5(o)) {}

  void Byte(uint8_t b) { bytes_.push_back(b); }
  void U16(uint16_t v) { AppendU16(v, &bytes_); }
  void String(std::string_view s, const char* what) {
    if (!status_.ok()) return;
    if (s.size() > 65535) {
      status_ = Invalid(std::string(what) + " is longer than 65,535 bytes");
    } else if (!IsValidMqttString(s)) {
      status_ = Invalid(std::string(what) + " is not valid UTF-8 or contains U+0000");
    } else {
      AppendLengthPrefixed(s, &bytes_);
    }
  }
  void Binary(const Bytes& b, const char* what) {
    if (!status_.ok()) return;
    if (b.size() > 65535) {
      status_ = Invalid(std::string(what) + " is longer than 65,535 bytes");
    } else {
      AppendLengthPrefixed(std::span<const uint8_t>(b), &bytes_);
    }
  }
  void Raw(const Bytes& b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
  // 5.0 only; a no-op for 3.1.1.
  void Props(const Properties& p, C context) {
    if (v5_ && status_.ok()) status_ = AppendProperties(p, context, &bytes_);
  }
  void Fail(Status s) {
    if (status_.ok()) status_ = std::move(s);
  }

  const Status& status() const { return status_; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  const bool v5_;
  std::vector<uint8_t> bytes_;
  Status status_;
};

// Fixed header + body onto *out, within the peer's limit.
Status Frame(uint8_t first_byte, const Body& body, const EncodeOptions& o,
             std::vector<uint8_t>* out) {
  if (!body.status().ok()) return body.status();
  const size_t rl = body.bytes().size();
  if (rl > kMaxRemainingLength) return Invalid("packet longer than 268,435,455 bytes");
  const size_t size = 1 + VariableByteIntegerSize(static_cast<uint32_t>(rl)) + rl;
  if (size > o.maximum_packet_size) {
    return Status::TooLarge("MQTT encode: " + std::to_string(size) +
                            "-byte packet is over the peer's Maximum Packet Size of " +
                            std::to_string(o.maximum_packet_size));
  }
  out->push_back(first_byte);
  AppendVbi(static_cast<uint32_t>(rl), out);
  out->insert(out->end(), body.bytes().begin(), body.bytes().end());
  return Status::Ok();
}

// Encodes with `encode(props)`; if the packet is too large for the peer, once more without
// the Reason String and User Properties, which a sender must drop rather than exceed the
// peer's Maximum Packet Size.
template <typename F>
Status WithOptionalDiagnostics(const Properties& props, F encode) {
  Status s = encode(props);
  if (s.code() != Status::Code::kTooLarge ||
      (!props.reason_string && props.user_properties.empty())) {
    return s;
  }
  Properties slim = props;
  slim.reason_string.reset();
  slim.user_properties.clear();
  return encode(slim);
}

Status CheckReason(PacketType type, ReasonCode reason) {
  if (IsValidReasonCode(type, reason)) return Status::Ok();
  return Invalid("reason code " + std::to_string(static_cast<int>(reason)) + " is not one of " +
                 std::string(PacketTypeName(type)) + "'s (2.4)");
}

uint8_t ResponseFirstByte(PacketType type) {
  return static_cast<uint8_t>(static_cast<uint8_t>(type) << 4) |
         (type == PacketType::kPubRel ? 0x02 : 0x00);
}

Status EncodeResponse(const PublishResponse& p, const EncodeOptions& o, std::vector<uint8_t>* out) {
  if (p.type < PacketType::kPubAck || p.type > PacketType::kPubComp) {
    return Invalid("PublishResponse type must be PUBACK, PUBREC, PUBREL or PUBCOMP");
  }
  if (p.packet_id == 0) return Invalid("Packet Identifier 0 (2.2.1)");
  if (Status s = CheckReason(p.type, p.reason); !s.ok()) return s;
  if (!IsV5(o) && p.reason != ReasonCode::kSuccess) {
    return Invalid(std::string(PacketTypeName(p.type)) +
                   ": MQTT 3.1.1 has no negative acknowledgement; close the connection");
  }
  return WithOptionalDiagnostics(p.properties, [&](const Properties& props) {
    Body b(o);
    b.U16(p.packet_id);
    const bool has_props = props != Properties{};
    if (IsV5(o) && (p.reason != ReasonCode::kSuccess || has_props)) {
      b.Byte(static_cast<uint8_t>(p.reason));
      if (has_props) b.Props(props, C::kPubResponse);
    }
    return Frame(ResponseFirstByte(p.type), b, o, out);
  });
}

// DISCONNECT, both directions: 5.0 omits the Reason Code when it is Normal disconnection
// without properties (3.14.2.1).
Status EncodeDisconnect(const Disconnect& p, const EncodeOptions& o, std::vector<uint8_t>* out) {
  if (Status s = CheckReason(PacketType::kDisconnect, p.reason); !s.ok()) return s;
  if (!IsV5(o) && p.reason != ReasonCode::kNormalDisconnection) {
    return Invalid("an MQTT 3.1.1 DISCONNECT has no reason code");
  }
  return WithOptionalDiagnostics(p.properties, [&](const Properties& props) {
    Body b(o);
    const bool has_props = props != Properties{};
    if (IsV5(o) && (p.reason != ReasonCode::kNormalDisconnection || has_props)) {
      b.Byte(static_cast<uint8_t>(p.reason));
      if (has_props) b.Props(props, C::kDisconnect);
    }
    return Frame(0xE0, b, o, out);
  });
}

// ---- client packets ----

Status EncodeConnect(const Connect& p, const EncodeOptions& o, std::vector<uint8_t>* out) {
  if (p.version != o.version) return Invalid("Connect::version differs from the options'");
  const bool v5 = IsV5(o);
  if (!v5 && p.password && !p.username) {
    return Invalid("MQTT 3.1.1 has no Password without User Name (3.1.1: MQTT-3.1.2-22)");
  }
  uint8_t flags = 0;
  if (p.username) flags |= 0x80;
  if (p.password) flags |= 0x40;
  if (p.will) {
    if (p.will->qos > 2) return Invalid("Will QoS above 2");
    flags |= 0x04 | static_cast<uint8_t>(p.will->qos << 3) | (p.will->retain ? 0x20 : 0);
  }
  if (p.clean_start) flags |= 0x02;
  Body b(o);
  b.String("MQTT", "Protocol Name");
  b.Byte(static_cast<uint8_t>(o.version));
  b.Byte(flags);
  b.U16(p.keep_alive);
  b.Props(p.properties, C::kConnect);
  b.String(p.client_id, "Client Identifier");
  if (p.will) {
    b.Props(p.will->properties, C::kWill);
    b.String(p.will->topic, "Will Topic");
    b.Binary(p.will->payload, "Will Payload");
  }
  if (p.username) b.String(*p.username, "User Name");
  if (p.password) b.Binary(*p.password, "Password");
  return Frame(0x10, b, o, out);
}

Status EncodePublish(const Publish& p, const EncodeOptions& o, std::vector<uint8_t>* out) {
  if (p.qos > 2) return Invalid("PUBLISH QoS above 2");
  if ((p.qos == 0) != (p.packet_id == 0)) {
    return Invalid("PUBLISH needs a Packet Identifier exactly when QoS > 0 (MQTT-2.2.1-2/-3)");
  }
  if (p.qos == 0 && p.dup) return Invalid("PUBLISH QoS 0 with DUP (MQTT-3.3.1-2)");
  Body b(o);
  b.String(p.topic, "Topic Name");
  if (p.qos > 0) b.U16(p.packet_id);
  b.Props(p.properties, C::kPublish);
  b.Raw(p.payload);
  const uint8_t first =
      0x30 | (p.dup ? 0x08 : 0) | static_cast<uint8_t>(p.qos << 1) | (p.retain ? 0x01 : 0);
  return Frame(first, b, o, out);
}

Status EncodeSubscribe(const Subscribe& p, const EncodeOptions& o, std::vector<uint8_t>* out) {
  if (p.packet_id == 0) return Invalid("Packet Identifier 0 (2.2.1)");
  Body b(o);
  b.U16(p.packet_id);
  b.Props(p.properties, C::kSubscribe);
  for (const Subscription& s : p.subscriptions) {
    if (s.max_qos > 2 || s.retain_handling > 2) return Invalid("Subscription Options out of range");
    b.String(s.filter, "Topic Filter");
    uint8_t options = s.max_qos;
    if (IsV5(o)) {
      options |= (s.no_local ? 0x04 : 0) | (s.retain_as_published ? 0x08 : 0) |
                 static_cast<uint8_t>(s.retain_handling << 4);
    }
    b.Byte(options);
  }
  return Frame(0x82, b, o, out);
}

Status EncodeUnsubscribe(const Unsubscribe& p, const EncodeOptions& o, std::vector<uint8_t>* out) {
  if (p.packet_id == 0) return Invalid("Packet Identifier 0 (2.2.1)");
  Body b(o);
  b.U16(p.packet_id);
  b.Props(p.properties, C::kUnsubscribe);
  for (const std::string& f : p.filters) b.String(f, "Topic Filter");
  return Frame(0xA2, b, o, out);
}

Status EncodeAuth(const Auth& p, const EncodeOptions& o, std::vector<uint8_t>* out) {
  if (!IsV5(o)) return Invalid("AUTH exists in MQTT 5.0 only");
  if (Status s = CheckReason(PacketType::kAuth, p.reason); !s.ok()) return s;
  Body b(o);
  const bool has_props = p.properties != Properties{};
  if (p.reason != ReasonCode::kSuccess || has_props) {
    b.Byte(static_cast<uint8_t>(p.reason));
    b.Props(p.properties, C::kAuth);
  }
  return Frame(0xF0, b, o, out);
}

}  // namespace

Status Encode(const ConnAck& p, const EncodeOptions& o, std::vector<uint8_t>* out) {
  if (Status s = CheckVersion(o); !s.ok()) return s;
  if (Status s = CheckReason(PacketType::kConnAck, p.reason); !s.ok()) return s;
  if (p.session_present && p.reason != ReasonCode::kSuccess) {
    return Invalid("CONNACK with Session Present and a failure (MQTT-3.2.2-6)");
  }
  uint8_t code = static_cast<uint8_t>(p.reason);
  if (!IsV5(o)) {
    std::optional<uint8_t> v311 = ToV311ConnectReturnCode(p.reason);
    if (!v311) {
      return Invalid("no MQTT 3.1.1 Connect Return Code for " +
                     std::string(ReasonCodeName(p.reason)) + "; close without CONNACK");
    }
    code = *v311;
  }
  return WithOptionalDiagnostics(p.properties, [&](const Properties& props) {
    Body b(o);
    b.Byte(p.session_present ? 0x01 : 0x00);
    b.Byte(code);
    b.Props(props, C::kConnAck);
    return Frame(0x20, b, o, out);
  });
}

Status Encode(const PublishResponse& p, const EncodeOptions& o, std::vector<uint8_t>* out) {
  if (Status s = CheckVersion(o); !s.ok()) return s;
  return EncodeResponse(p, o, out);
}

Status Encode(const SubAck& p, const EncodeOptions& o, std::vector<uint8_t>* out) {
  if (Status s = CheckVersion(o); !s.ok()) return s;
  if (p.packet_id == 0) return Invalid("Packet Identifier 0 (2.2.1)");
  if (p.reasons.empty()) return Invalid("SUBACK without a reason code (MQTT-3.8.4-6)");
  for (ReasonCode r : p.reasons) {
    if (Status s = CheckReason(PacketType::kSubAck, r); !s.ok()) return s;
  }
  return WithOptionalDiagnostics(p.properties, [&](const Properties& props) {
    Body b(o);
    b.U16(p.packet_id);
    b.Props(props, C::kSubAck);
    for (ReasonCode r : p.reasons) {
      const auto code = static_cast<uint8_t>(r);
      b.Byte(IsV5(o) || code < 0x80 ? code : 0x80);  // 3.1.1: 0x80 = Failure (3.1.1: 3.9.3)
    }
    return Frame(0x90, b, o, out);
  });
}

Status Encode(const UnsubAck& p, const EncodeOptions& o, std::vector<uint8_t>* out) {
  if (Status s = CheckVersion(o); !s.ok()) return s;
  if (p.packet_id == 0) return Invalid("Packet Identifier 0 (2.2.1)");
  if (IsV5(o)) {
    if (p.reasons.empty()) return Invalid("UNSUBACK without a reason code (3.11.3)");
    for (ReasonCode r : p.reasons) {
      if (Status s = CheckReason(PacketType::kUnsubAck, r); !s.ok()) return s;
    }
  }
  return WithOptionalDiagnostics(p.properties, [&](const Properties& props) {
    Body b(o);
    b.U16(p.packet_id);
    b.Props(props, C::kUnsubAck);
    if (IsV5(o)) {
      for (ReasonCode r : p.reasons) b.Byte(static_cast<uint8_t>(r));
    }
    return Frame(0xB0, b, o, out);
  });
}

Status Encode(const PingResp&, const EncodeOptions& o, std::vector<uint8_t>* out) {
  if (Status s = CheckVersion(o); !s.ok()) return s;
  return Frame(0xD0, Body(o), o, out);
}

Status Encode(const Disconnect& p, const EncodeOptions& o, std::vector<uint8_t>* out) {
  if (Status s = CheckVersion(o); !s.ok()) return s;
  if (!IsV5(o)) return Invalid("an MQTT 3.1.1 server has no DISCONNECT; close the connection");
  if (p.properties.session_expiry_interval) {
    return Invalid("a server DISCONNECT must not carry Session Expiry Interval (MQTT-3.14.2-2)");
  }
  return EncodeDisconnect(p, o, out);
}

Status EncodeClientPacket(const Packet& packet, const EncodeOptions& o, std::vector<uint8_t>* out) {
  if (Status s = CheckVersion(o); !s.ok()) return s;
  struct Visitor {
    const EncodeOptions& o;
    std::vector<uint8_t>* out;
    Status operator()(const Connect& p) const { return EncodeConnect(p, o, out); }
    Status operator()(const Publish& p) const { return EncodePublish(p, o, out); }
    Status operator()(const PublishResponse& p) const { return EncodeResponse(p, o, out); }
    Status operator()(const Subscribe& p) const { return EncodeSubscribe(p, o, out); }
    Status operator()(const Unsubscribe& p) const { return EncodeUnsubscribe(p, o, out); }
    Status operator()(const PingReq&) const { return Frame(0xC0, Body(o), o, out); }
    Status operator()(const Disconnect& p) const { return EncodeDisconnect(p, o, out); }
    Status operator()(const Auth& p) const { return EncodeAuth(p, o, out); }
  };
  return std::visit(Visitor{o, out}, packet);
}

}  // namespace cistern::mqtt
