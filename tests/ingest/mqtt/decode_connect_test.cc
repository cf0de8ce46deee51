// CONNECT decoding (src/ingest/mqtt/decoder.h), MQTT 3.1.1 and 5.0: packets written byte by
// byte from the field layouts of section 3.1 of both specifications.
#include <gtest/gtest.h>

#include "ingest/mqtt/decoder.h"
#include "tests/ingest/mqtt/test_bytes.h"

namespace cistern::mqtt {
namespace {

using namespace testing;  // NOLINT: the byte-building helpers

constexpr auto kUnknown = ProtocolVersion::kUnknown;
constexpr auto kV311 = ProtocolVersion::kV311;
constexpr auto kV5 = ProtocolVersion::kV5;

// A 3.1.1 CONNECT: protocol name and level 4, flags, keep alive 60, then `payload`.
ByteVec Connect311(int flags, const ByteVec& payload) {
  return Pkt(0x10, Cat({Str("MQTT"), B({4, flags, 0, 60}), payload}));
}

// A 5.0 CONNECT: level 5, flags, keep alive 30, the CONNECT properties, then `payload`.
ByteVec Connect5(int flags, const ByteVec& props, const ByteVec& payload) {
  return Pkt(0x10, Cat({Str("MQTT"), B({5, flags, 0, 30}), Props(props), payload}));
}

TEST(DecodeConnectTest, V311AllFields) {
  // User Name, Password, Will Retain, Will QoS 1, Will Flag, Clean Session.
  const ByteVec bytes = Connect311(0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02,
                                   Cat({Str("dev-1"), Str("dev/1/status"), Str("offline"),
                                        Str("user"), Str(std::string("\x00\xFFpw", 4))}));
  Connect c = ExpectPacket<Connect>(bytes, kUnknown);
  EXPECT_EQ(c.version, kV311);
  EXPECT_TRUE(c.clean_start);
  EXPECT_EQ(c.keep_alive, 60);
  EXPECT_EQ(c.client_id, "dev-1");
  ASSERT_TRUE(c.will.has_value());
  EXPECT_EQ(c.will->topic, "dev/1/status");
  EXPECT_EQ(c.will->payload, Raw("offline"));
  EXPECT_EQ(c.will->qos, 1);
  EXPECT_TRUE(c.will->retain);  // 3.1.1 has no Retain Available: accepted
  EXPECT_EQ(c.username, "user");
  EXPECT_EQ(c.password, B({0x00, 0xFF, 'p', 'w'}));
  EXPECT_EQ(c.properties, Properties{});
}

TEST(DecodeConnectTest, V311Minimal) {
  Connect c = ExpectPacket<Connect>(Connect311(0x00, Str("c")), kUnknown);
  EXPECT_EQ(c.version, kV311);
  EXPECT_FALSE(c.clean_start);
  EXPECT_EQ(c.client_id, "c");
  EXPECT_FALSE(c.will || c.username || c.password);
}

TEST(DecodeConnectTest, V5AllPropertiesAndWillProperties) {
  const ByteVec props = Cat({
      B({0x11, 0x00, 0x00, 0x0E, 0x10}),  // Session Expiry Interval 3600
      B({0x21, 0x00, 0x14}),              // Receive Maximum 20
      B({0x27, 0x00, 0x01, 0x00, 0x00}),  // Maximum Packet Size 65536
      B({0x22, 0x00, 0x05}),              // Topic Alias Maximum 5
      B({0x19, 0x01}),                    // Request Response Information
      B({0x17, 0x00}),                    // Request Problem Information
      B({0x26}), Str("site"), Str("north"), B({0x26}), Str("site"),
      Str("south"),  // repeated names are allowed, order kept
  });
  const ByteVec will_props = Cat({
      B({0x18, 0x00, 0x00, 0x00, 0x0A}),  // Will Delay Interval 10
      B({0x01, 0x01}),                    // Payload Format Indicator: UTF-8
      B({0x02, 0x00, 0x00, 0x02, 0x58}),  // Message Expiry Interval 600
      B({0x03}),
      Str("text/plain"),  // Content Type
      B({0x08}),
      Str("resp/1"),  // Response Topic
      B({0x09}),
      Str("\x01\x02\x03"),  // Correlation Data
      B({0x26}),
      Str("k"),
      Str("v"),
  });
  const ByteVec bytes = Connect5(0x80 | 0x40 | 0x10 | 0x04 | 0x02, props,
                                 Cat({Str("dev-5"), Props(will_props), Str("dev/5/will"),
                                      Str("bye \xC3\xA9"), Str("u5"), Str("p5")}));
  Connect c = ExpectPacket<Connect>(bytes, kUnknown);
  EXPECT_EQ(c.version, kV5);
  EXPECT_EQ(c.keep_alive, 30);
  EXPECT_EQ(c.client_id, "dev-5");
  const Properties& p = c.properties;
  EXPECT_EQ(p.session_expiry_interval, 3600u);
  EXPECT_EQ(p.receive_maximum, 20);
  EXPECT_EQ(p.maximum_packet_size, 65536u);
  EXPECT_EQ(p.topic_alias_maximum, 5);
  EXPECT_EQ(p.request_response_information, 1);
  EXPECT_EQ(p.request_problem_information, 0);
  ASSERT_EQ(p.user_properties.size(), 2u);
  EXPECT_EQ(p.user_properties[0], (UserProperty{"site", "north"}));
  EXPECT_EQ(p.user_properties[1], (UserProperty{"site", "south"}));
  ASSERT_TRUE(c.will.has_value());
  EXPECT_EQ(c.will->qos, 2);
  EXPECT_FALSE(c.will->retain);
  EXPECT_EQ(c.will->topic, "dev/5/will");
  EXPECT_EQ(c.will->payload, Raw("bye \xC3\xA9"));
  const Properties& w = c.will->properties;
  EXPECT_EQ(w.will_delay_interval, 10u);
  EXPECT_EQ(w.payload_format_indicator, 1);
  EXPECT_EQ(w.message_expiry_interval, 600u);
  EXPECT_EQ(w.content_type, "text/plain");
  EXPECT_EQ(w.response_topic, "resp/1");
  EXPECT_EQ(w.correlation_data, B({1, 2, 3}));
  ASSERT_EQ(w.user_properties.size(), 1u);
  EXPECT_EQ(c.username, "u5");
  EXPECT_EQ(c.password, Raw("p5"));
}

TEST(DecodeConnectTest, V5AllowsPasswordWithoutUserNameAndEmptyClientId) {
  Connect c = ExpectPacket<Connect>(Connect5(0x40, {}, Cat({Str(""), Str("secret")})), kUnknown);
  EXPECT_FALSE(c.username.has_value());
  EXPECT_EQ(c.password, Raw("secret"));
  EXPECT_FALSE(c.clean_start);  // 5.0: the server assigns an id (MQTT-3.1.3-6)
  EXPECT_EQ(c.client_id, "");
}

TEST(DecodeConnectTest, V311EmptyClientIdNeedsCleanSession) {
  EXPECT_EQ(ExpectPacket<Connect>(Connect311(0x02, Str("")), kUnknown).client_id, "");
  DecodeError e = ExpectError(Connect311(0x00, Str("")), kUnknown);
  EXPECT_EQ(e.reason, ReasonCode::kClientIdentifierNotValid);  // MQTT-3.1.3-8
  EXPECT_EQ(e.connack_version, kV311);                         // CONNACK return code 2
  EXPECT_EQ(ToV311ConnectReturnCode(e.reason), 2);
}

TEST(DecodeConnectTest, UnsupportedProtocolLevelsGetAV311Connack) {
  const ByteVec mqtt3 = Pkt(0x10, Cat({Str("MQTT"), B({3, 2, 0, 60}), Str("c")}));
  const ByteVec mqisdp = Pkt(0x10, Cat({Str("MQIsdp"), B({3, 2, 0, 60}), Str("c")}));
  const ByteVec mqtt6 = Pkt(0x10, Cat({Str("MQTT"), B({6, 2, 0, 60}), Str("c")}));
  for (const ByteVec& bytes : {mqtt3, mqisdp, mqtt6}) {
    DecodeError e = ExpectError(bytes, kUnknown);
    EXPECT_EQ(e.reason, ReasonCode::kUnsupportedProtocolVersion) << Hex(bytes);
    EXPECT_EQ(e.connack_version, kV311) << Hex(bytes);  // return code 1 (3.1.1: MQTT-3.1.2-2)
  }
}

TEST(DecodeConnectTest, NotMqttIsClosedWithoutConnack) {
  DecodeError e = ExpectError(Pkt(0x10, Cat({Str("HTTP"), B({4, 2, 0, 60}), Str("c")})), kUnknown);
  EXPECT_EQ(e.reason, ReasonCode::kUnsupportedProtocolVersion);
  EXPECT_EQ(e.connack_version, kUnknown);
  // Cut off inside the protocol name: malformed, no CONNACK.
  e = ExpectError(Pkt(0x10, B({0x00, 0x04, 'M', 'Q'})), kUnknown);
  EXPECT_EQ(e.reason, ReasonCode::kMalformedPacket);
  EXPECT_EQ(e.connack_version, kUnknown);
}

TEST(DecodeConnectTest, FlagRules) {
  // Reserved bit (MQTT-3.1.2-3), Will QoS/Retain without Will (-11, -13), Will QoS 3 (-12).
  for (int flags : {0x03, 0x0A, 0x22, 0x1C}) {
    DecodeError e311 = ExpectError(Connect311(flags, Str("c")), kUnknown);
    EXPECT_EQ(e311.reason, ReasonCode::kMalformedPacket) << flags;
    EXPECT_EQ(e311.connack_version, kUnknown) << flags;  // 3.1.1: MQTT-3.1.4-1, no CONNACK
    DecodeError e5 = ExpectError(Connect5(flags, {}, Str("c")), kUnknown);
    EXPECT_EQ(e5.reason, ReasonCode::kMalformedPacket) << flags;
    EXPECT_EQ(e5.connack_version, kV5) << flags;  // 5.0: CONNACK 0x81
  }
  // 3.1.1: a Password needs a User Name (MQTT-3.1.2-22).
  EXPECT_EQ(ErrorReason(Connect311(0x42, Cat({Str("c"), Str("pw")})), kUnknown),
            ReasonCode::kMalformedPacket);
}

TEST(DecodeConnectTest, WillTopicAndPayloadRules) {
  auto will5 = [](const ByteVec& will_props, std::string_view topic, std::string_view payload) {
    return Connect5(0x06, {}, Cat({Str("c"), Props(will_props), Str(topic), Str(payload)}));
  };
  EXPECT_EQ(ErrorReason(will5({}, "a/+/b", "x"), kUnknown), ReasonCode::kTopicNameInvalid);
  EXPECT_EQ(ErrorReason(will5({}, "a/#", "x"), kUnknown), ReasonCode::kTopicNameInvalid);
  EXPECT_EQ(ErrorReason(will5({}, "", "x"), kUnknown), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(Connect311(0x06, Cat({Str("c"), Str("a/#"), Str("x")})), kUnknown),
            ReasonCode::kTopicNameInvalid);
  // Payload Format Indicator 1 and a payload that is not UTF-8: CONNACK 0x99 (3.1.3.2.3).
  DecodeError e = ExpectError(will5(B({0x01, 0x01}), "t", "\xC3\x28"), kUnknown);
  EXPECT_EQ(e.reason, ReasonCode::kPayloadFormatInvalid);
  EXPECT_EQ(e.connack_version, kV5);
  // The same bytes without the indicator are just bytes.
  EXPECT_EQ(ExpectPacket<Connect>(will5({}, "t", "\xC3\x28"), kUnknown).will->payload,
            B({0xC3, 0x28}));
}

TEST(DecodeConnectTest, ServerCapabilitiesRefuseWillRetainAndQos) {
  const ByteVec retained = Connect5(0x26, {}, Cat({Str("c"), Props({}), Str("t"), Str("x")}));
  EXPECT_EQ(ErrorReason(retained, kUnknown), ReasonCode::kRetainNotSupported);  // MQTT-3.2.2-13
  DecoderOptions with_retain;
  with_retain.retain_available = true;
  EXPECT_TRUE(ExpectPacket<Connect>(retained, kUnknown, with_retain).will->retain);

  const ByteVec qos2 = Connect5(0x14, {}, Cat({Str("c"), Props({}), Str("t"), Str("x")}));
  DecoderOptions qos1;
  qos1.maximum_qos = 1;
  EXPECT_EQ(ErrorReason(qos2, kUnknown, qos1), ReasonCode::kQosNotSupported);
  EXPECT_EQ(ExpectPacket<Connect>(qos2, kUnknown).will->qos, 2);
}

TEST(DecodeConnectTest, EnhancedAuthIsRefusedPolitely) {
  DecodeError e =
      ExpectError(Connect5(0x02, Cat({B({0x15}), Str("SCRAM-SHA-1")}), Str("c")), kUnknown);
  EXPECT_EQ(e.reason, ReasonCode::kBadAuthenticationMethod);
  EXPECT_EQ(e.connack_version, kV5);
  // Authentication Data without a Method is a Protocol Error (3.1.2.11.10).
  EXPECT_EQ(ErrorReason(Connect5(0x02, Cat({B({0x16}), Str("xx")}), Str("c")), kUnknown),
            ReasonCode::kProtocolError);
}

TEST(DecodeConnectTest, PropertyErrors) {
  struct Case {
    ByteVec props;
    ReasonCode reason;
  };
  const Case cases[] = {
      {B({0x05, 0x00}), ReasonCode::kMalformedPacket},        // no such property
      {B({0x23, 0x00, 0x01}), ReasonCode::kMalformedPacket},  // Topic Alias: PUBLISH only
      {B({0x0B, 0x01}), ReasonCode::kMalformedPacket},        // Subscription Identifier
      {B({0x80, 0x01, 0x00}), ReasonCode::kMalformedPacket},  // identifier 128 (a VBI)
      {B({0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2}), ReasonCode::kProtocolError},  // twice
      {B({0x21, 0x00, 0x00}), ReasonCode::kProtocolError},                    // Receive Maximum 0
      {B({0x27, 0, 0, 0, 0}), ReasonCode::kProtocolError},         // Maximum Packet Size 0
      {B({0x17, 0x02}), ReasonCode::kProtocolError},               // not 0 or 1
      {B({0x19, 0x07}), ReasonCode::kProtocolError},               // not 0 or 1
      {B({0x11, 0x00, 0x00}), ReasonCode::kMalformedPacket},       // value past the section
      {Cat({B({0x26}), Str("k")}), ReasonCode::kMalformedPacket},  // pair without a value
      {Cat({B({0x26}), Str("k"), Str("\xED\xB0\x80")}), ReasonCode::kMalformedPacket},
  };
  for (const Case& c : cases) {
    DecodeError e = ExpectError(Connect5(0x02, c.props, Str("c")), kUnknown);
    EXPECT_EQ(e.reason, c.reason) << Hex(c.props) << ": " << e.message;
    EXPECT_EQ(e.connack_version, kV5);
  }
  // A Property Length that runs past the packet.
  EXPECT_EQ(
      ErrorReason(Pkt(0x10, Cat({Str("MQTT"), B({5, 2, 0, 30, 0x09, 0x11}), Str("c")})), kUnknown),
      ReasonCode::kMalformedPacket);
}

TEST(DecodeConnectTest, StringsMustBeValidUtf8) {
  for (std::string_view id : {std::string_view("a\0b", 3), std::string_view("\xED\xA0\x80"),
                              std::string_view("\xC0\xAF")}) {
    EXPECT_EQ(ErrorReason(Connect311(0x02, Str(id)), kUnknown), ReasonCode::kMalformedPacket);
  }
  EXPECT_EQ(ErrorReason(Connect311(0x82, Cat({Str("c"), Str("\xFF")})), kUnknown),
            ReasonCode::kMalformedPacket);  // User Name
}

TEST(DecodeConnectTest, RemainingLengthMustMatchTheFields) {
  // One byte too many after the Password, and a body that ends inside the Client Identifier.
  ByteVec extra = Connect311(0x02, Cat({Str("c"), B({0x00})}));
  EXPECT_EQ(ErrorReason(extra, kUnknown), ReasonCode::kMalformedPacket);
  ByteVec short_body = Connect311(0x02, B({0x00, 0x05, 'a', 'b'}));
  EXPECT_EQ(ErrorReason(short_body, kUnknown), ReasonCode::kMalformedPacket);
  // A User Name Flag without the User Name.
  EXPECT_EQ(ErrorReason(Connect311(0x82, Str("c")), kUnknown), ReasonCode::kMalformedPacket);
}

}  // namespace
}  // namespace cistern::mqtt
