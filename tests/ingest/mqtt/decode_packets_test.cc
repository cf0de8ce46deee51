// Decoding every packet a client sends after CONNECT (src/ingest/mqtt/decoder.h), in MQTT
// 3.1.1 and 5.0, from bytes written by hand after the layouts of sections 3.3-3.15.
#include <gtest/gtest.h>

#include "ingest/mqtt/decoder.h"
#include "tests/ingest/mqtt/test_bytes.h"

namespace cistern::mqtt {
namespace {

using namespace testing;  // NOLINT: the byte-building helpers

constexpr auto kV311 = ProtocolVersion::kV311;
constexpr auto kV5 = ProtocolVersion::kV5;

// ---- PUBLISH (3.3) ----

TEST(DecodePublishTest, V311Qos0) {
  Publish p = ExpectPacket<Publish>(Pkt(0x30, Cat({Str("a/b"), Raw("hello")})), kV311);
  EXPECT_EQ(p.topic, "a/b");
  EXPECT_EQ(p.qos, 0);
  EXPECT_EQ(p.packet_id, 0);
  EXPECT_FALSE(p.dup || p.retain);
  EXPECT_EQ(p.payload, Raw("hello"));
}

TEST(DecodePublishTest, V311Qos1DupRetainAndQos2) {
  Publish p = ExpectPacket<Publish>(Pkt(0x3B, Cat({Str("t"), B({0x12, 0x34}), Raw("x")})), kV311);
  EXPECT_TRUE(p.dup);
  EXPECT_EQ(p.qos, 1);
  EXPECT_TRUE(p.retain);  // 3.1.1 knows no Retain Available
  EXPECT_EQ(p.packet_id, 0x1234);
  Publish q2 = ExpectPacket<Publish>(Pkt(0x34, Cat({Str("t"), B({0, 1})})), kV311);
  EXPECT_EQ(q2.qos, 2);
  EXPECT_TRUE(q2.payload.empty());
}

TEST(DecodePublishTest, V5Properties) {
  DecoderOptions o;
  o.topic_alias_maximum = 10;
  const ByteVec props = Cat({
      B({0x01, 0x01}),                                  // Payload Format Indicator
      B({0x02, 0x00, 0x00, 0x00, 0x3C}),                // Message Expiry Interval 60
      B({0x23, 0x00, 0x03}),                            // Topic Alias 3
      B({0x08}), Str("reply/7"),                        // Response Topic
      B({0x09}), Str(std::string_view("\x00\x01", 2)),  // Correlation Data
      B({0x26}), Str("a"), Str("1"), B({0x26}), Str("b"), Str("2"), B({0x03}),
      Str("application/json"),  // Content Type
  });
  const ByteVec bytes = Pkt(0x32, Cat({Str("s/7"), B({0, 7}), Props(props), Raw("{\"t\":1}")}));
  Publish p = ExpectPacket<Publish>(bytes, kV5, o);
  EXPECT_EQ(p.packet_id, 7);
  EXPECT_EQ(p.properties.payload_format_indicator, 1);
  EXPECT_EQ(p.properties.message_expiry_interval, 60u);
  EXPECT_EQ(p.properties.topic_alias, 3);
  EXPECT_EQ(p.properties.response_topic, "reply/7");
  EXPECT_EQ(p.properties.correlation_data, B({0, 1}));
  EXPECT_EQ(p.properties.content_type, "application/json");
  ASSERT_EQ(p.properties.user_properties.size(), 2u);
  EXPECT_EQ(p.properties.user_properties[1], (UserProperty{"b", "2"}));
  EXPECT_EQ(p.payload, Raw("{\"t\":1}"));
  EXPECT_EQ(CheckPayloadFormat(p), ReasonCode::kSuccess);
}

TEST(DecodePublishTest, V5EmptyTopicNeedsATopicAlias) {
  DecoderOptions o;
  o.topic_alias_maximum = 10;
  Publish p = ExpectPacket<Publish>(
      Pkt(0x30, Cat({Str(""), Props(B({0x23, 0x00, 0x0A})), Raw("x")})), kV5, o);
  EXPECT_EQ(p.topic, "");
  EXPECT_EQ(p.properties.topic_alias, 10);
  EXPECT_EQ(ErrorReason(Pkt(0x30, Cat({Str(""), Props({}), Raw("x")})), kV5, o),
            ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(Pkt(0x30, Cat({Str(""), Raw("x")})), kV311), ReasonCode::kProtocolError);
}

TEST(DecodePublishTest, TopicAliasOutsideTheAdvertisedRange) {
  auto with_alias = [](int alias) {
    return Pkt(0x30, Cat({Str("t"), Props(B({0x23, alias >> 8, alias & 0xFF})), Raw("x")}));
  };
  // Cistern's default: no Topic Alias at all (topic_alias_maximum 0).
  EXPECT_EQ(ErrorReason(with_alias(1), kV5), ReasonCode::kTopicAliasInvalid);
  DecoderOptions o;
  o.topic_alias_maximum = 10;
  EXPECT_EQ(ErrorReason(with_alias(0), kV5, o), ReasonCode::kTopicAliasInvalid);
  EXPECT_EQ(ErrorReason(with_alias(11), kV5, o), ReasonCode::kTopicAliasInvalid);
  EXPECT_EQ(ExpectPacket<Publish>(with_alias(10), kV5, o).properties.topic_alias, 10);
}

TEST(DecodePublishTest, TopicNameRules) {
  for (auto v : {kV311, kV5}) {
    const ByteVec empty_props = v == kV5 ? Props({}) : ByteVec{};
    for (std::string_view topic : {"a/+", "#", "a/#/b", "x+y"}) {
      EXPECT_EQ(ErrorReason(Pkt(0x30, Cat({Str(topic), empty_props})), v),
                ReasonCode::kTopicNameInvalid)
          << topic;
    }
    EXPECT_EQ(ErrorReason(Pkt(0x30, Cat({Str("a\xED\xA0\x80"), empty_props})), v),
              ReasonCode::kMalformedPacket);
    EXPECT_EQ(ErrorReason(Pkt(0x30, Cat({Str(std::string("a\0", 2)), empty_props})), v),
              ReasonCode::kMalformedPacket);
  }
}

TEST(DecodePublishTest, PacketIdentifierRules) {
  // QoS > 0 needs a non-zero Packet Identifier (2.2.1); one that is cut off is malformed.
  EXPECT_EQ(ErrorReason(Pkt(0x32, Cat({Str("t"), B({0, 0})})), kV311), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(Pkt(0x34, Cat({Str("t"), B({0, 0}), Props({})})), kV5),
            ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(Pkt(0x32, Cat({Str("t"), B({0})})), kV311), ReasonCode::kMalformedPacket);
  // 5.0 needs the Property Length after it.
  EXPECT_EQ(ErrorReason(Pkt(0x32, Cat({Str("t"), B({0, 1})})), kV5), ReasonCode::kMalformedPacket);
}

TEST(DecodePublishTest, V5PropertyRules) {
  auto publish = [](const ByteVec& props) {
    return Pkt(0x30, Cat({Str("t"), Props(props), Raw("x")}));
  };
  // A client must not send a Subscription Identifier (MQTT-3.3.4-6).
  EXPECT_EQ(ErrorReason(publish(B({0x0B, 0x01})), kV5), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(publish(B({0x01, 0x02})), kV5), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(publish(Cat({B({0x08}), Str("r/#")})), kV5), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(publish(Cat({B({0x03}), Str("a"), B({0x03}), Str("b")})), kV5),
            ReasonCode::kProtocolError);  // Content Type twice
  EXPECT_EQ(ErrorReason(publish(B({0x11, 0, 0, 0, 1})), kV5), ReasonCode::kMalformedPacket);
  EXPECT_EQ(ErrorReason(publish(B({0x18, 0, 0, 0, 1})), kV5), ReasonCode::kMalformedPacket);
}

TEST(DecodePublishTest, V5ServerCapabilities) {
  const ByteVec retained = Pkt(0x31, Cat({Str("t"), Props({})}));
  EXPECT_EQ(ErrorReason(retained, kV5), ReasonCode::kRetainNotSupported);
  DecoderOptions o;
  o.retain_available = true;
  EXPECT_TRUE(ExpectPacket<Publish>(retained, kV5, o).retain);
  EXPECT_TRUE(ExpectPacket<Publish>(Pkt(0x31, Str("t")), kV311).retain);

  const ByteVec qos2 = Pkt(0x34, Cat({Str("t"), B({0, 1}), Props({})}));
  o.maximum_qos = 1;
  EXPECT_EQ(ErrorReason(qos2, kV5, o), ReasonCode::kQosNotSupported);
  EXPECT_EQ(ExpectPacket<Publish>(qos2, kV5).qos, 2);
}

TEST(DecodePublishTest, PayloadFormatCheck) {
  Publish p;
  p.payload = B({0xC3, 0x28});
  EXPECT_EQ(CheckPayloadFormat(p), ReasonCode::kSuccess);  // unspecified bytes
  p.properties.payload_format_indicator = 0;
  EXPECT_EQ(CheckPayloadFormat(p), ReasonCode::kSuccess);
  p.properties.payload_format_indicator = 1;
  EXPECT_EQ(CheckPayloadFormat(p), ReasonCode::kPayloadFormatInvalid);
  p.payload = Raw("ok \xE2\x82\xAC");
  EXPECT_EQ(CheckPayloadFormat(p), ReasonCode::kSuccess);
}

// ---- PUBACK, PUBREC, PUBREL, PUBCOMP (3.4-3.7) ----

TEST(DecodePubResponseTest, V311) {
  const std::pair<int, PacketType> types[] = {{0x40, PacketType::kPubAck},
                                              {0x50, PacketType::kPubRec},
                                              {0x62, PacketType::kPubRel},
                                              {0x70, PacketType::kPubComp}};
  for (const auto& [first, type] : types) {
    PublishResponse r = ExpectPacket<PublishResponse>(B({first, 0x02, 0x01, 0x02}), kV311);
    EXPECT_EQ(r.type, type);
    EXPECT_EQ(r.packet_id, 0x0102);
    EXPECT_EQ(r.reason, ReasonCode::kSuccess);
    EXPECT_EQ(ErrorReason(B({first, 0x03, 0x01, 0x02, 0x00}), kV311),
              ReasonCode::kMalformedPacket);  // 3.1.1: exactly two bytes
    EXPECT_EQ(ErrorReason(B({first, 0x02, 0x00, 0x00}), kV311), ReasonCode::kProtocolError);
  }
}

TEST(DecodePubResponseTest, V5ShortForms) {
  PublishResponse r = ExpectPacket<PublishResponse>(B({0x62, 0x02, 0x00, 0x05}), kV5);
  EXPECT_EQ(r.reason, ReasonCode::kSuccess);
  r = ExpectPacket<PublishResponse>(B({0x62, 0x03, 0x00, 0x05, 0x92}), kV5);
  EXPECT_EQ(r.reason, ReasonCode::kPacketIdentifierNotFound);
  r = ExpectPacket<PublishResponse>(B({0x40, 0x04, 0x00, 0x05, 0x10, 0x00}), kV5);
  EXPECT_EQ(r.reason, ReasonCode::kNoMatchingSubscribers);
  EXPECT_EQ(r.properties, Properties{});
}

TEST(DecodePubResponseTest, V5WithProperties) {
  const ByteVec props = Cat({B({0x1F}), Str("quota"), B({0x26}), Str("k"), Str("v")});
  PublishResponse r =
      ExpectPacket<PublishResponse>(Pkt(0x50, Cat({B({0, 9, 0x97}), Props(props)})), kV5);
  EXPECT_EQ(r.type, PacketType::kPubRec);
  EXPECT_EQ(r.reason, ReasonCode::kQuotaExceeded);
  EXPECT_EQ(r.properties.reason_string, "quota");
  EXPECT_EQ(r.properties.user_properties.size(), 1u);
}

TEST(DecodePubResponseTest, V5Errors) {
  // A reason code from another packet's list (2.4): PUBREL 0x10, PUBACK 0x92, PUBCOMP 0x97.
  EXPECT_EQ(ErrorReason(B({0x62, 0x03, 0x00, 0x05, 0x10}), kV5), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(B({0x40, 0x03, 0x00, 0x05, 0x92}), kV5), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(B({0x70, 0x03, 0x00, 0x05, 0x97}), kV5), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(B({0x40, 0x07, 0x00, 0x05, 0x00, 0x03, 0x23, 0x00, 0x01}), kV5),
            ReasonCode::kMalformedPacket);  // Topic Alias is not a PUBACK property
  EXPECT_EQ(ErrorReason(B({0x40, 0x05, 0x00, 0x05, 0x00, 0x00, 0x00}), kV5),
            ReasonCode::kMalformedPacket);  // a byte after the properties
  EXPECT_EQ(ErrorReason(B({0x40, 0x01, 0x00}), kV5), ReasonCode::kMalformedPacket);
}

// ---- SUBSCRIBE (3.8), UNSUBSCRIBE (3.10) ----

TEST(DecodeSubscribeTest, V311) {
  Subscribe s = ExpectPacket<Subscribe>(
      Pkt(0x82, Cat({B({0, 10}), Str("a/b"), B({1}), Str("c/#"), B({2})})), kV311);
  EXPECT_EQ(s.packet_id, 10);
  ASSERT_EQ(s.subscriptions.size(), 2u);
  EXPECT_EQ(s.subscriptions[0], (Subscription{"a/b", 1, false, false, 0}));
  EXPECT_EQ(s.subscriptions[1], (Subscription{"c/#", 2, false, false, 0}));
}

TEST(DecodeSubscribeTest, V5OptionsAndProperties) {
  const ByteVec props = Cat({B({0x0B, 0x80, 0x01}), B({0x26}), Str("k"), Str("v")});
  // QoS 1, No Local, Retain As Published, Retain Handling 2: 0b0010'1101.
  Subscribe s = ExpectPacket<Subscribe>(
      Pkt(0x82, Cat({B({0, 11}), Props(props), Str("x/+"), B({0x2D})})), kV5);
  EXPECT_EQ(s.properties.subscription_identifiers, std::vector<uint32_t>{128});
  ASSERT_EQ(s.subscriptions.size(), 1u);
  EXPECT_EQ(s.subscriptions[0], (Subscription{"x/+", 1, true, true, 2}));
}

TEST(DecodeSubscribeTest, Errors) {
  auto sub5 = [](const ByteVec& props, const ByteVec& payload) {
    return Pkt(0x82, Cat({B({0, 1}), Props(props), payload}));
  };
  EXPECT_EQ(ErrorReason(sub5({}, Cat({Str("a"), B({0x40})})), kV5), ReasonCode::kMalformedPacket);
  EXPECT_EQ(ErrorReason(sub5({}, Cat({Str("a"), B({0x03})})), kV5), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(sub5({}, Cat({Str("a"), B({0x30})})), kV5), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(sub5({}, Cat({Str("$share/g/a"), B({0x04})})), kV5),
            ReasonCode::kProtocolError);  // No Local on a shared subscription
  EXPECT_EQ(ErrorReason(sub5(B({0x0B, 0x00}), Cat({Str("a"), B({0})})), kV5),
            ReasonCode::kProtocolError);  // Subscription Identifier 0
  EXPECT_EQ(ErrorReason(sub5(B({0x0B, 0x01, 0x0B, 0x02}), Cat({Str("a"), B({0})})), kV5),
            ReasonCode::kProtocolError);                                  // twice
  EXPECT_EQ(ErrorReason(sub5({}, {}), kV5), ReasonCode::kProtocolError);  // no filter
  EXPECT_EQ(ErrorReason(sub5({}, Cat({Str(""), B({0})})), kV5), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(sub5({}, Str("a")), kV5), ReasonCode::kMalformedPacket);  // no options
  // 3.1.1: reserved bits and QoS 3 are malformed (3.1.1: MQTT-3-8.3-4).
  EXPECT_EQ(ErrorReason(Pkt(0x82, Cat({B({0, 1}), Str("a"), B({0x04})})), kV311),
            ReasonCode::kMalformedPacket);
  EXPECT_EQ(ErrorReason(Pkt(0x82, Cat({B({0, 1}), Str("a"), B({0x03})})), kV311),
            ReasonCode::kMalformedPacket);
  EXPECT_EQ(ErrorReason(Pkt(0x82, Cat({B({0, 0}), Str("a"), B({0x00})})), kV311),
            ReasonCode::kProtocolError);  // Packet Identifier 0
}

TEST(DecodeUnsubscribeTest, BothVersions) {
  Unsubscribe u =
      ExpectPacket<Unsubscribe>(Pkt(0xA2, Cat({B({0, 3}), Str("a/b"), Str("c/#")})), kV311);
  EXPECT_EQ(u.packet_id, 3);
  EXPECT_EQ(u.filters, (std::vector<std::string>{"a/b", "c/#"}));
  u = ExpectPacket<Unsubscribe>(
      Pkt(0xA2, Cat({B({0, 4}), Props(Cat({B({0x26}), Str("k"), Str("v")})), Str("a")})), kV5);
  EXPECT_EQ(u.filters, std::vector<std::string>{"a"});
  EXPECT_EQ(u.properties.user_properties.size(), 1u);
  EXPECT_EQ(ErrorReason(Pkt(0xA2, B({0, 4})), kV311), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(Pkt(0xA2, Cat({B({0, 4}), Props({})})), kV5), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(Pkt(0xA2, Cat({B({0, 4}), Props(B({0x0B, 1})), Str("a")})), kV5),
            ReasonCode::kMalformedPacket);  // no Subscription Identifier in UNSUBSCRIBE
}

// ---- PINGREQ (3.12), DISCONNECT (3.14), AUTH (3.15) ----

TEST(DecodePingReqTest, MustBeEmpty) {
  EXPECT_EQ(ExpectPacket<PingReq>(B({0xC0, 0x00}), kV311), PingReq{});
  EXPECT_EQ(ErrorReason(B({0xC0, 0x01, 0x00}), kV5), ReasonCode::kMalformedPacket);
}

TEST(DecodeDisconnectTest, V311MustBeEmpty) {
  EXPECT_EQ(ExpectPacket<Disconnect>(B({0xE0, 0x00}), kV311).reason,
            ReasonCode::kNormalDisconnection);
  EXPECT_EQ(ErrorReason(B({0xE0, 0x01, 0x00}), kV311), ReasonCode::kMalformedPacket);
}

TEST(DecodeDisconnectTest, V5) {
  EXPECT_EQ(ExpectPacket<Disconnect>(B({0xE0, 0x00}), kV5).reason,
            ReasonCode::kNormalDisconnection);
  EXPECT_EQ(ExpectPacket<Disconnect>(B({0xE0, 0x01, 0x04}), kV5).reason,
            ReasonCode::kDisconnectWithWillMessage);
  const ByteVec props = Cat({B({0x11, 0, 0, 0, 0}), B({0x1F}), Str("bye")});
  Disconnect d = ExpectPacket<Disconnect>(Pkt(0xE0, Cat({B({0x80}), Props(props)})), kV5);
  EXPECT_EQ(d.reason, ReasonCode::kUnspecifiedError);
  EXPECT_EQ(d.properties.session_expiry_interval, 0u);
  EXPECT_EQ(d.properties.reason_string, "bye");
  EXPECT_EQ(ErrorReason(B({0xE0, 0x01, 0x05}), kV5), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(B({0xE0, 0x01, 0x84}), kV5), ReasonCode::kProtocolError);  // CONNACK's
  EXPECT_EQ(ErrorReason(B({0xE0, 0x04, 0x00, 0x02, 0x21, 0x00}), kV5),
            ReasonCode::kMalformedPacket);  // Receive Maximum is not a DISCONNECT property
}

TEST(DecodeAuthTest, V5) {
  EXPECT_EQ(ExpectPacket<Auth>(B({0xF0, 0x00}), kV5).reason, ReasonCode::kSuccess);
  const ByteVec props = Cat({B({0x15}), Str("SCRAM-SHA-1"), B({0x16}), Str("data")});
  Auth a = ExpectPacket<Auth>(Pkt(0xF0, Cat({B({0x18}), Props(props)})), kV5);
  EXPECT_EQ(a.reason, ReasonCode::kContinueAuthentication);
  EXPECT_EQ(a.properties.authentication_method, "SCRAM-SHA-1");
  EXPECT_EQ(a.properties.authentication_data, Raw("data"));
  EXPECT_EQ(ErrorReason(Pkt(0xF0, Cat({B({0x18}), Props({})})), kV5), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(Pkt(0xF0, Cat({B({0x01}), Props(props)})), kV5),
            ReasonCode::kProtocolError);
}

TEST(AdvertisedPropertiesTest, SayWhatTheDecoderEnforces) {
  Properties p = AdvertisedProperties(DecoderOptions());
  EXPECT_EQ(p.maximum_packet_size, 1u << 20);
  EXPECT_EQ(p.retain_available, 0);
  EXPECT_FALSE(p.maximum_qos.has_value());          // QoS 2 is the default
  EXPECT_FALSE(p.topic_alias_maximum.has_value());  // absent = 0
  EXPECT_EQ(p.wildcard_subscription_available, 0);
  EXPECT_EQ(p.subscription_identifier_available, 0);
  EXPECT_EQ(p.shared_subscription_available, 0);
  DecoderOptions o;
  o.maximum_qos = 1;
  o.retain_available = true;
  o.topic_alias_maximum = 8;
  p = AdvertisedProperties(o);
  EXPECT_EQ(p.maximum_qos, 1);
  EXPECT_FALSE(p.retain_available.has_value());
  EXPECT_EQ(p.topic_alias_maximum, 8);
}

}  // namespace
}  // namespace cistern::mqtt
