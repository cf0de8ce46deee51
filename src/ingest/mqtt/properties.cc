#include "ingest/mqtt/properties.h"

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace cistern::mqtt {
namespace {

using C = PropertyContext;

constexpr uint16_t Bit(C c) { return static_cast<uint16_t>(1u << static_cast<unsigned>(c)); }
constexpr uint16_t kAll = 0x7FF;  // every context (User Property)
constexpr uint16_t kMessage = Bit(C::kPublish) | Bit(C::kWill);
constexpr uint16_t kAcks = Bit(C::kConnAck) | Bit(C::kPubResponse) | Bit(C::kSubAck) |
                           Bit(C::kUnsubAck) | Bit(C::kDisconnect) | Bit(C::kAuth);

// Table 2-4 (2.2.2.2): identifier, name, and the packets that may carry it.
struct Spec {
  uint8_t id;
  const char* name;
  uint16_t contexts;
};

constexpr Spec kSpecs[] = {
    {0x01, "Payload Format Indicator", kMessage},
    {0x02, "Message Expiry Interval", kMessage},
    {0x03, "Content Type", kMessage},
    {0x08, "Response Topic", kMessage},
    {0x09, "Correlation Data", kMessage},
    {0x0B, "Subscription Identifier", Bit(C::kPublish) | Bit(C::kSubscribe)},
    {0x11, "Session Expiry Interval", Bit(C::kConnect) | Bit(C::kConnAck) | Bit(C::kDisconnect)},
    {0x12, "Assigned Client Identifier", Bit(C::kConnAck)},
    {0x13, "Server Keep Alive", Bit(C::kConnAck)},
    {0x15, "Authentication Method", Bit(C::kConnect) | Bit(C::kConnAck) | Bit(C::kAuth)},
    {0x16, "Authentication Data", Bit(C::kConnect) | Bit(C::kConnAck) | Bit(C::kAuth)},
    {0x17, "Request Problem Information", Bit(C::kConnect)},
    {0x18, "Will Delay Interval", Bit(C::kWill)},
    {0x19, "Request Response Information", Bit(C::kConnect)},
    {0x1A, "Response Information", Bit(C::kConnAck)},
    {0x1C, "Server Reference", Bit(C::kConnAck) | Bit(C::kDisconnect)},
    {0x1F, "Reason String", kAcks},
    {0x21, "Receive Maximum", Bit(C::kConnect) | Bit(C::kConnAck)},
    {0x22, "Topic Alias Maximum", Bit(C::kConnect) | Bit(C::kConnAck)},
    {0x23, "Topic Alias", Bit(C::kPublish)},
    {0x24, "Maximum QoS", Bit(C::kConnAck)},
    {0x25, "Retain Available", Bit(C::kConnAck)},
    {0x26, "User Property", kAll},
    {0x27, "Maximum Packet Size", Bit(C::kConnect) | Bit(C::kConnAck)},
    {0x28, "Wildcard Subscription Available", Bit(C::kConnAck)},
    {0x29, "Subscription Identifier Available", Bit(C::kConnAck)},
    {0x2A, "Shared Subscription Available", Bit(C::kConnAck)},
};

const Spec* FindSpec(uint32_t id) {
  for (const Spec& s : kSpecs) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

const char* ContextName(C c) {
  switch (c) {
    case C::kConnect:
      return "CONNECT";
    case C::kWill:
      return "Will Properties";
    case C::kConnAck:
      return "CONNACK";
    case C::kPublish:
      return "PUBLISH";
    case C::kPubResponse:
      return "PUBACK/PUBREC/PUBREL/PUBCOMP";
    case C::kSubscribe:
      return "SUBSCRIBE";
    case C::kSubAck:
      return "SUBACK";
    case C::kUnsubscribe:
      return "UNSUBSCRIBE";
    case C::kUnsubAck:
      return "UNSUBACK";
    case C::kDisconnect:
      return "DISCONNECT";
    case C::kAuth:
      return "AUTH";
  }
  return "?";
}

std::string Hex(uint32_t id) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(id));
  return buf;
}

// The value rules both directions share; nullptr when `value` is allowed for property `id`.
const char* NumericProblem(uint8_t id, uint32_t value) {
  switch (id) {
    case 0x01:
    case 0x17:
    case 0x19:
    case 0x24:
    case 0x25:
    case 0x28:
    case 0x29:
    case 0x2A:
      return value > 1 ? "must be 0 or 1" : nullptr;
    case 0x0B:
      if (value == 0) return "must not be 0 (3.8.2.1.2)";
      return value > kMaxRemainingLength ? "is larger than a Variable Byte Integer" : nullptr;
    case 0x21:
    case 0x27:
      return value == 0 ? "must not be 0" : nullptr;
    default:
      return nullptr;
  }
}

const char* StringProblem(uint8_t id, std::string_view value) {
  if (id == 0x08 && (value.empty() || HasWildcard(value))) {
    return "must be a Topic Name: not empty, no wildcard (MQTT-3.3.2-14, MQTT-4.7.3-1)";
  }
  return nullptr;
}

// ---- reading ----

class PropertyReader {
 public:
  PropertyReader(Reader& r, C context, Properties* out) : r_(r), context_(context), out_(out) {}

  bool ReadOne() {
    uint32_t id;
    if (!r_.ReadVbi(&id, "property identifier")) return false;
    const Spec* spec = FindSpec(id);
    if (spec == nullptr || (spec->contexts & Bit(context_)) == 0) {
      return r_.Fail(ReasonCode::kMalformedPacket, "property " + Hex(id) + " is not valid in " +
                                                       ContextName(context_) + " (2.2.2.2)");
    }
    spec_ = spec;
    Properties& p = *out_;
    switch (spec->id) {
      case 0x01:
        return Once(&p.payload_format_indicator);
      case 0x02:
        return Once(&p.message_expiry_interval);
      case 0x03:
        return Once(&p.content_type);
      case 0x08:
        return Once(&p.response_topic);
      case 0x09:
        return Once(&p.correlation_data);
      case 0x0B: {
        // Repeatable only in a PUBLISH (sent to a client, 3.3.2.3.8); once in SUBSCRIBE.
        if (context_ != C::kPublish && !p.subscription_identifiers.empty()) return Twice();
        uint32_t v;
        if (!r_.ReadVbi(&v, spec->name) || !CheckNumber(v)) return false;
        p.subscription_identifiers.push_back(v);
        return true;
      }
      case 0x11:
        return Once(&p.session_expiry_interval);
      case 0x12:
        return Once(&p.assigned_client_identifier);
      case 0x13:
        return Once(&p.server_keep_alive);
      case 0x15:
        return Once(&p.authentication_method);
      case 0x16:
        return Once(&p.authentication_data);
      case 0x17:
        return Once(&p.request_problem_information);
      case 0x18:
        return Once(&p.will_delay_interval);
      case 0x19:
        return Once(&p.request_response_information);
      case 0x1A:
        return Once(&p.response_information);
      case 0x1C:
        return Once(&p.server_reference);
      case 0x1F:
        return Once(&p.reason_string);
      case 0x21:
        return Once(&p.receive_maximum);
      case 0x22:
        return Once(&p.topic_alias_maximum);
      case 0x23:
        return Once(&p.topic_alias);
      case 0x24:
        return Once(&p.maximum_qos);
      case 0x25:
        return Once(&p.retain_available);
      case 0x26: {
        UserProperty up;
        if (!r_.ReadString(&up.name, "User Property name") ||
            !r_.ReadString(&up.value, "User Property value")) {
          return false;
        }
        p.user_properties.push_back(std::move(up));
        return true;
      }
      case 0x27:
        return Once(&p.maximum_packet_size);
      case 0x28:
        return Once(&p.wildcard_subscription_available);
      case 0x29:
        return Once(&p.subscription_identifier_available);
      case 0x2A:
        return Once(&p.shared_subscription_available);
    }
    return r_.Fail(ReasonCode::kMalformedPacket, "property " + Hex(id));  // not reached
  }

 private:
  bool Twice() {
    return r_.Fail(ReasonCode::kProtocolError,
                   std::string(spec_->name) + " given more than once in " + ContextName(context_));
  }

  bool CheckNumber(uint32_t v) {
    if (const char* problem = NumericProblem(spec_->id, v)) {
      return r_.Fail(ReasonCode::kProtocolError, std::string(spec_->name) + " " + problem);
    }
    return true;
  }

  template <typename T>
  bool Once(std::optional<T>* field) {
    if (field->has_value()) return Twice();
    T v{};
    if constexpr (std::is_same_v<T, uint8_t>) {
      if (!r_.ReadByte(&v, spec_->name) || !CheckNumber(v)) return false;
    } else if constexpr (std::is_same_v<T, uint16_t>) {
      if (!r_.ReadU16(&v, spec_->name) || !CheckNumber(v)) return false;
    } else if constexpr (std::is_same_v<T, uint32_t>) {
      if (!r_.ReadU32(&v, spec_->name) || !CheckNumber(v)) return false;
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!r_.ReadString(&v, spec_->name)) return false;
      if (const char* problem = StringProblem(spec_->id, v)) {
        return r_.Fail(ReasonCode::kProtocolError, std::string(spec_->name) + " " + problem);
      }
    } else {
      static_assert(std::is_same_v<T, Bytes>);
      if (!r_.ReadBinary(&v, spec_->name)) return false;
    }
    *field = std::move(v);
    return true;
  }

  Reader& r_;
  const C context_;
  Properties* const out_;
  const Spec* spec_ = nullptr;
};

// ---- writing ----

class PropertyWriter {
 public:
  explicit PropertyWriter(C context) : context_(context) {}

  template <typename T>
  void Put(uint8_t id, const std::optional<T>& v) {
    if (v.has_value()) PutValue(id, *v);
  }
  template <typename T>
  void PutValue(uint8_t id, const T& v) {
    if (!Begin(id)) return;
    if constexpr (std::is_same_v<T, uint8_t>) {
      if (Numeric(v)) out_.push_back(v);
    } else if constexpr (std::is_same_v<T, uint16_t>) {
      if (Numeric(v)) AppendU16(v, &out_);
    } else if constexpr (std::is_same_v<T, uint32_t>) {
      if (!Numeric(v)) return;
      if (id == 0x0B) {
        AppendVbi(v, &out_);
      } else {
        AppendU32(v, &out_);
      }
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (const char* problem = StringProblem(id, v)) return Error(problem);
      if (String(v)) AppendLengthPrefixed(v, &out_);
    } else if constexpr (std::is_same_v<T, UserProperty>) {
      if (String(v.name) && String(v.value)) {
        AppendLengthPrefixed(v.name, &out_);
        AppendLengthPrefixed(v.value, &out_);
      }
    } else {
      static_assert(std::is_same_v<T, Bytes>);
      if (v.size() > 65535) return Error("is longer than 65,535 bytes");
      AppendLengthPrefixed(std::span<const uint8_t>(v), &out_);
    }
  }

  Status Finish(std::vector<uint8_t>* out) {
    if (!status_.ok()) return status_;
    if (out_.size() > kMaxRemainingLength) {
      return Status::InvalidArgument("MQTT properties: section longer than 268,435,455 bytes");
    }
    AppendVbi(static_cast<uint32_t>(out_.size()), out);
    out->insert(out->end(), out_.begin(), out_.end());
    return Status::Ok();
  }

 private:
  bool Begin(uint8_t id) {
    if (!status_.ok()) return false;
    spec_ = FindSpec(id);
    if ((spec_->contexts & Bit(context_)) == 0) {
      Error((std::string("is not allowed in ") + ContextName(context_)).c_str());
      return false;
    }
    out_.push_back(id);  // every identifier is below 128: a one-byte Variable Byte Integer
    return true;
  }
  bool Numeric(uint32_t v) {
    if (const char* problem = NumericProblem(spec_->id, v)) {
      Error(problem);
      return false;
    }
    return true;
  }
  bool String(const std::string& s) {
    if (s.size() > 65535) {
      Error("is longer than 65,535 bytes");
      return false;
    }
    if (!IsValidMqttString(s)) {
      Error("is not valid UTF-8 or contains U+0000");
      return false;
    }
    return true;
  }
  void Error(const char* problem) {
    if (status_.ok()) {
      status_ =
          Status::InvalidArgument(std::string("MQTT property ") + spec_->name + " " + problem);
    }
  }

  const C context_;
  const Spec* spec_ = nullptr;
  std::vector<uint8_t> out_;
  Status status_;
};

}  // namespace

bool ReadProperties(Reader& r, PropertyContext context, Properties* out) {
  uint32_t length;
  std::span<const uint8_t> section;
  if (!r.ReadVbi(&length, "Property Length") || !r.ReadSpan(length, &section, "properties")) {
    return false;
  }
  Reader pr(section);
  PropertyReader reader(pr, context, out);
  while (!pr.empty()) {
    if (!reader.ReadOne()) return r.Fail(pr.error());
  }
  return true;
}

Status AppendProperties(const Properties& p, PropertyContext context, std::vector<uint8_t>* out) {
  if (context != PropertyContext::kPublish && p.subscription_identifiers.size() > 1) {
    return Status::InvalidArgument(
        "MQTT property Subscription Identifier: at most one outside PUBLISH (3.8.2.1.2)");
  }
  PropertyWriter w(context);
  w.Put(0x01, p.payload_format_indicator);
  w.Put(0x02, p.message_expiry_interval);
  w.Put(0x03, p.content_type);
  w.Put(0x08, p.response_topic);
  w.Put(0x09, p.correlation_data);
  for (uint32_t id : p.subscription_identifiers) w.PutValue(0x0B, id);
  w.Put(0x11, p.session_expiry_interval);
  w.Put(0x12, p.assigned_client_identifier);
  w.Put(0x13, p.server_keep_alive);
  w.Put(0x15, p.authentication_method);
  w.Put(0x16, p.authentication_data);
  w.Put(0x17, p.request_problem_information);
  w.Put(0x18, p.will_delay_interval);
  w.Put(0x19, p.request_response_information);
  w.Put(0x1A, p.response_information);
  w.Put(0x1C, p.server_reference);
  w.Put(0x1F, p.reason_string);
  w.Put(0x21, p.receive_maximum);
  w.Put(0x22, p.topic_alias_maximum);
  w.Put(0x23, p.topic_alias);
  w.Put(0x24, p.maximum_qos);
  w.Put(0x25, p.retain_available);
  for (const UserProperty& up : p.user_properties) w.PutValue(0x26, up);
  w.Put(0x27, p.maximum_packet_size);
  w.Put(0x28, p.wildcard_subscription_available);
  w.Put(0x29, p.subscription_identifier_available);
  w.Put(0x2A, p.shared_subscription_available);
  return w.Finish(out);
}

}  // namespace cistern::mqtt
