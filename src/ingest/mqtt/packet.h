// MQTT 3.1.1 (protocol level 4) and 5.0 (level 5) packets as plain values: the packets a
// Cistern ingest endpoint receives from device publishers, and the ones it sends back.
//
// Field layouts follow the OASIS specifications: MQTT Version 3.1.1 (section 3, "MQTT Control
// Packets") and MQTT Version 5.0 (section 3, and 2.2.2 for properties, 2.4 for reason codes).
// Section numbers below are those of the 5.0 specification unless marked "3.1.1".
//
// Every type here is a value: it owns its strings and bytes, is copyable and movable, and has
// no thread affinity. Strings hold UTF-8 exactly as received (never normalized).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cistern::mqtt {

using Bytes = std::vector<uint8_t>;

// The protocol level byte of CONNECT (3.1.2.2; 3.1.1: 3.1.2.2). kUnknown: no CONNECT decoded
// yet on this connection.
enum class ProtocolVersion : uint8_t { kUnknown = 0, kV311 = 4, kV5 = 5 };

// Control packet types (2.1.2). AUTH exists in 5.0 only (reserved in 3.1.1).
enum class PacketType : uint8_t {
  kConnect = 1,
  kConnAck = 2,
  kPublish = 3,
  kPubAck = 4,
  kPubRec = 5,
  kPubRel = 6,
  kPubComp = 7,
  kSubscribe = 8,
  kSubAck = 9,
  kUnsubscribe = 10,
  kUnsubAck = 11,
  kPingReq = 12,
  kPingResp = 13,
  kDisconnect = 14,
  kAuth = 15,
};

// MQTT 5.0 reason codes (2.4, table 2-6). Several names share a value, as in the table.
enum class ReasonCode : uint8_t {
  kSuccess = 0x00,
  kNormalDisconnection = 0x00,
  kGrantedQos0 = 0x00,
  kGrantedQos1 = 0x01,
  kGrantedQos2 = 0x02,
  kDisconnectWithWillMessage = 0x04,
  kNoMatchingSubscribers = 0x10,
  kNoSubscriptionExisted = 0x11,
  kContinueAuthentication = 0x18,
  kReAuthenticate = 0x19,
  kUnspecifiedError = 0x80,
  kMalformedPacket = 0x81,
  kProtocolError = 0x82,
  kImplementationSpecificError = 0x83,
  kUnsupportedProtocolVersion = 0x84,
  kClientIdentifierNotValid = 0x85,
  kBadUserNameOrPassword = 0x86,
  kNotAuthorized = 0x87,
  kServerUnavailable = 0x88,
  kServerBusy = 0x89,
  kBanned = 0x8A,
  kServerShuttingDown = 0x8B,
  kBadAuthenticationMethod = 0x8C,
  kKeepAliveTimeout = 0x8D,
  kSessionTakenOver = 0x8E,
  kTopicFilterInvalid = 0x8F,
  kTopicNameInvalid = 0x90,
  kPacketIdentifierInUse = 0x91,
  kPacketIdentifierNotFound = 0x92,
  kReceiveMaximumExceeded = 0x93,
  kTopicAliasInvalid = 0x94,
  kPacketTooLarge = 0x95,
  kMessageRateTooHigh = 0x96,
  kQuotaExceeded = 0x97,
  kAdministrativeAction = 0x98,
  kPayloadFormatInvalid = 0x99,
  kRetainNotSupported = 0x9A,
  kQosNotSupported = 0x9B,
  kUseAnotherServer = 0x9C,
  kServerMoved = 0x9D,
  kSharedSubscriptionsNotSupported = 0x9E,
  kConnectionRateExceeded = 0x9F,
  kMaximumConnectTime = 0xA0,
  kSubscriptionIdentifiersNotSupported = 0xA1,
  kWildcardSubscriptionsNotSupported = 0xA2,
};

// The largest Remaining Length (1.5.5: a 4-byte Variable Byte Integer), and so the largest
// packet: 1 type byte + 4 length bytes + that.
inline constexpr uint32_t kMaxRemainingLength = 268'435'455;
inline constexpr uint32_t kMaxPacketSize = 1 + 4 + kMaxRemainingLength;

struct UserProperty {
  std::string name;
  std::string value;
  bool operator==(const UserProperty&) const = default;
};

// MQTT 5.0 properties (2.2.2.2, table 2-4), one struct for every packet type: which fields a
// packet may carry is checked against the table by the decoder and the encoder
// (properties.h). Absent = not sent. Always empty for 3.1.1.
struct Properties {
  std::optional<uint8_t> payload_format_indicator;  // 0x01 PUBLISH, Will
  std::optional<uint32_t> message_expiry_interval;  // 0x02 PUBLISH, Will
  std::optional<std::string> content_type;          // 0x03 PUBLISH, Will
  std::optional<std::string> response_topic;        // 0x08 PUBLISH, Will
  std::optional<Bytes> correlation_data;            // 0x09 PUBLISH, Will
  std::vector<uint32_t> subscription_identifiers;   // 0x0B SUBSCRIBE (one), PUBLISH to a client
  std::optional<uint32_t> session_expiry_interval;  // 0x11 CONNECT, CONNACK, DISCONNECT
  std::optional<std::string> assigned_client_identifier;     // 0x12 CONNACK
  std::optional<uint16_t> server_keep_alive;                 // 0x13 CONNACK
  std::optional<std::string> authentication_method;          // 0x15 CONNECT, CONNACK, AUTH
  std::optional<Bytes> authentication_data;                  // 0x16 CONNECT, CONNACK, AUTH
  std::optional<uint8_t> request_problem_information;        // 0x17 CONNECT
  std::optional<uint32_t> will_delay_interval;               // 0x18 Will
  std::optional<uint8_t> request_response_information;       // 0x19 CONNECT
  std::optional<std::string> response_information;           // 0x1A CONNACK
  std::optional<std::string> server_reference;               // 0x1C CONNACK, DISCONNECT
  std::optional<std::string> reason_string;                  // 0x1F acks, DISCONNECT, AUTH
  std::optional<uint16_t> receive_maximum;                   // 0x21 CONNECT, CONNACK
  std::optional<uint16_t> topic_alias_maximum;               // 0x22 CONNECT, CONNACK
  std::optional<uint16_t> topic_alias;                       // 0x23 PUBLISH
  std::optional<uint8_t> maximum_qos;                        // 0x24 CONNACK
  std::optional<uint8_t> retain_available;                   // 0x25 CONNACK
  std::vector<UserProperty> user_properties;                 // 0x26 all with properties, in order
  std::optional<uint32_t> maximum_packet_size;               // 0x27 CONNECT, CONNACK
  std::optional<uint8_t> wildcard_subscription_available;    // 0x28 CONNACK
  std::optional<uint8_t> subscription_identifier_available;  // 0x29 CONNACK
  std::optional<uint8_t> shared_subscription_available;      // 0x2A CONNACK

  bool operator==(const Properties&) const = default;
};

// ---- Packets a server receives --------------------------------------------------------------

// The Will Message of CONNECT (3.1.2.5-3.1.2.7, 3.1.3.2-3.1.3.4).
struct Will {
  std::string topic;
  Bytes payload;
  uint8_t qos = 0;
  bool retain = false;
  Properties properties;  // Will Properties (5.0 only)
  bool operator==(const Will&) const = default;
};

// CONNECT (3.1). `version` is the protocol level the client asked for: the session passes it
// to Decode for every later packet of the connection.
struct Connect {
  ProtocolVersion version = ProtocolVersion::kV5;
  bool clean_start = true;  // 3.1.1: Clean Session
  uint16_t keep_alive = 0;  // seconds; 0 = no keep alive
  std::string client_id;    // may be empty: the server then assigns one (3.1.3.1)
  std::optional<std::string> username;
  std::optional<Bytes> password;
  std::optional<Will> will;
  Properties properties;
  bool operator==(const Connect&) const = default;
};

// PUBLISH (3.3). packet_id is 0 for QoS 0 (no Packet Identifier on the wire), non-zero
// otherwise. topic may be empty only in 5.0 with a Topic Alias (3.3.2.3.4); resolving an alias
// to its topic is the session's job (it is per-connection state).
struct Publish {
  bool dup = false;
  uint8_t qos = 0;
  bool retain = false;
  std::string topic;
  uint16_t packet_id = 0;
  Properties properties;
  Bytes payload;
  bool operator==(const Publish&) const = default;
};

// PUBACK, PUBREC, PUBREL, PUBCOMP (3.4-3.7): one shape, told apart by `type`. Both received
// (PUBREL in the QoS 2 flow) and sent. 3.1.1 has neither reason code nor properties.
struct PublishResponse {
  PacketType type = PacketType::kPubAck;
  uint16_t packet_id = 0;
  ReasonCode reason = ReasonCode::kSuccess;
  Properties properties;
  bool operator==(const PublishResponse&) const = default;
};

// One Topic Filter of SUBSCRIBE with its Subscription Options (3.8.3.1). 3.1.1 carries only
// the requested QoS; the other options are then false/0.
struct Subscription {
  std::string filter;
  uint8_t max_qos = 0;
  bool no_local = false;
  bool retain_as_published = false;
  uint8_t retain_handling = 0;
  bool operator==(const Subscription&) const = default;
};

// SUBSCRIBE (3.8). Never empty when decoded.
struct Subscribe {
  uint16_t packet_id = 0;
  Properties properties;
  std::vector<Subscription> subscriptions;
  bool operator==(const Subscribe&) const = default;
};

// UNSUBSCRIBE (3.10). Never empty when decoded.
struct Unsubscribe {
  uint16_t packet_id = 0;
  Properties properties;
  std::vector<std::string> filters;
  bool operator==(const Unsubscribe&) const = default;
};

// PINGREQ (3.12): no content.
struct PingReq {
  bool operator==(const PingReq&) const = default;
};

// DISCONNECT (3.14). Received from clients, and sent by a 5.0 server (3.1.1 has no server
// DISCONNECT: the server just closes the connection).
struct Disconnect {
  ReasonCode reason = ReasonCode::kNormalDisconnection;
  Properties properties;
  bool operator==(const Disconnect&) const = default;
};

// AUTH (3.15, 5.0 only). Cistern refuses enhanced authentication (a CONNECT with an
// Authentication Method gets CONNACK 0x8C), so an AUTH on an accepted connection is a
// Protocol Error for the session to answer with DISCONNECT 0x82 (4.12).
struct Auth {
  ReasonCode reason = ReasonCode::kSuccess;
  Properties properties;
  bool operator==(const Auth&) const = default;
};

// Any packet a client may send to a server.
using Packet = std::variant<Connect, Publish, PublishResponse, Subscribe, Unsubscribe, PingReq,
                            Disconnect, Auth>;

// ---- Packets a server sends (encoders in encoder.h) -----------------------------------------

// CONNACK (3.2). `reason` is a 5.0 reason code; for 3.1.1 it is mapped to a Connect Return
// Code with ToV311ConnectReturnCode.
struct ConnAck {
  bool session_present = false;
  ReasonCode reason = ReasonCode::kSuccess;
  Properties properties;
  bool operator==(const ConnAck&) const = default;
};

// SUBACK (3.9): one reason code per Topic Filter of the SUBSCRIBE, in order. For 3.1.1, codes
// of 0x80 and above are all sent as 0x80 (Failure).
struct SubAck {
  uint16_t packet_id = 0;
  std::vector<ReasonCode> reasons;
  Properties properties;
  bool operator==(const SubAck&) const = default;
};

// UNSUBACK (3.11): 5.0 has one reason code per Topic Filter; 3.1.1 only the Packet Identifier.
struct UnsubAck {
  uint16_t packet_id = 0;
  std::vector<ReasonCode> reasons;
  Properties properties;
  bool operator==(const UnsubAck&) const = default;
};

// PINGRESP (3.13): no content.
struct PingResp {
  bool operator==(const PingResp&) const = default;
};

// ---- Names and mappings ---------------------------------------------------------------------

// "CONNECT", "PUBLISH", ...; "reserved" for 0 and out-of-range values.
std::string_view PacketTypeName(PacketType type);
PacketType PacketTypeOf(const Packet& packet);
// "Success", "Malformed Packet", ... (the names of table 2-6); "unknown" for other values.
std::string_view ReasonCodeName(ReasonCode code);
// Whether `code` is one the 5.0 spec lists for packets of `type` (2.4, and the Reason Code
// table of each packet: 3.2.2.2, 3.4.2.1, 3.5.2.1, 3.6.2.1, 3.7.2.1, 3.9.3, 3.11.3, 3.14.2.1,
// 3.15.2.1). False for types without reason codes.
bool IsValidReasonCode(PacketType type, ReasonCode code);
// The 3.1.1 Connect Return Code (3.1.1: 3.2.2.3) that says the same as a 5.0 reason code:
// 0x00 -> 0, 0x84 -> 1, 0x85 -> 2, 0x88/0x89 -> 3, 0x86 -> 4, 0x87 -> 5; nullopt when 3.1.1
// has no such code (then the 3.1.1 server closes the connection without a CONNACK,
// 3.1.1: MQTT-3.2.2-6).
std::optional<uint8_t> ToV311ConnectReturnCode(ReasonCode code);

}  // namespace cistern::mqtt
