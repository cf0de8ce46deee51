// Encoders (src/ingest/mqtt/encoder.h): the server's packets against bytes derived by hand
// from sections 3.2-3.14 of both specifications, the peer's Maximum Packet Size, and round
// trips of every client packet through EncodeClientPacket and Decode.
#include "ingest/mqtt/encoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/mqtt/decoder.h"
#include "tests/ingest/mqtt/test_bytes.h"

namespace cistern::mqtt {
namespace {

using namespace testing;  // NOLINT: the byte-building helpers

constexpr auto kV311 = ProtocolVersion::kV311;
constexpr auto kV5 = ProtocolVersion::kV5;

EncodeOptions Opts(ProtocolVersion v, uint32_t max = kMaxPacketSize) {
  EncodeOptions o;
  o.version = v;
  o.maximum_packet_size = max;
  return o;
}

// Encodes `p`, expecting success; returns the bytes.
template <typename T>
ByteVec Enc(const T& p, const EncodeOptions& o) {
  std::vector<uint8_t> out;
  Status s = Encode(p, o, &out);
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

// Encodes `p`, expecting `code`, and that the output buffer was left as it was.
template <typename T>
void ExpectRefused(const T& p, const EncodeOptions& o,
                   Status::Code code = Status::Code::kInvalidArgument) {
  std::vector<uint8_t> out = {0xAB};
  Status s = Encode(p, o, &out);
  EXPECT_EQ(s.code(), code) << s.message();
  EXPECT_FALSE(s.message().empty());
  EXPECT_EQ(out, B({0xAB}));
}

// ---- CONNACK ----

TEST(EncodeConnAckTest, V311ReturnCodes) {
  EXPECT_EQ(Enc(ConnAck{}, Opts(kV311)), B({0x20, 0x02, 0x00, 0x00}));
  EXPECT_EQ(Enc(ConnAck{true, ReasonCode::kSuccess, {}}, Opts(kV311)), B({0x20, 0x02, 0x01, 0x00}));
  const std::pair<ReasonCode, int> codes[] = {
      {ReasonCode::kUnsupportedProtocolVersion, 1}, {ReasonCode::kClientIdentifierNotValid, 2},
      {ReasonCode::kServerUnavailable, 3},          {ReasonCode::kServerBusy, 3},
      {ReasonCode::kBadUserNameOrPassword, 4},      {ReasonCode::kNotAuthorized, 5}};
  for (const auto& [reason, rc] : codes) {
    EXPECT_EQ(Enc(ConnAck{false, reason, {}}, Opts(kV311)), B({0x20, 0x02, 0x00, rc}));
  }
  // No 3.1.1 code for these: the server closes without CONNACK (3.1.1: MQTT-3.2.2-6).
  ExpectRefused(ConnAck{false, ReasonCode::kMalformedPacket, {}}, Opts(kV311));
  ExpectRefused(ConnAck{false, ReasonCode::kQuotaExceeded, {}}, Opts(kV311));
  // Properties are not part of 3.1.1 and are left out.
  ConnAck with_props;
  with_props.properties.reason_string = "hi";
  EXPECT_EQ(Enc(with_props, Opts(kV311)), B({0x20, 0x02, 0x00, 0x00}));
}

TEST(EncodeConnAckTest, SessionPresentOnlyWithSuccess) {
  ExpectRefused(ConnAck{true, ReasonCode::kNotAuthorized, {}}, Opts(kV5));
  ExpectRefused(ConnAck{true, ReasonCode::kNotAuthorized, {}}, Opts(kV311));
}

TEST(EncodeConnAckTest, V5Minimal) {
  EXPECT_EQ(Enc(ConnAck{}, Opts(kV5)), B({0x20, 0x03, 0x00, 0x00, 0x00}));
  EXPECT_EQ(Enc(ConnAck{false, ReasonCode::kBadAuthenticationMethod, {}}, Opts(kV5)),
            B({0x20, 0x03, 0x00, 0x8C, 0x00}));
}

TEST(EncodeConnAckTest, V5WithCisternsProperties) {
  ConnAck ack;
  ack.properties = AdvertisedProperties(DecoderOptions());
  ack.properties.assigned_client_identifier = "auto-1";
  ack.properties.server_keep_alive = 30;
  const ByteVec expected = B({
      0x20, 0x1C, 0x00, 0x00, 0x19,                       // flags, reason, Property Length 25
      0x12, 0x00, 0x06, 'a',  'u',  't',  'o', '-', '1',  // Assigned Client Identifier
      0x13, 0x00, 0x1E,                                   // Server Keep Alive 30
      0x25, 0x00,                                         // Retain Available 0
      0x27, 0x00, 0x10, 0x00, 0x00,                       // Maximum Packet Size 1 MiB
      0x28, 0x00, 0x29, 0x00, 0x2A, 0x00,                 // no wildcard/sub id/shared subs
  });
  EXPECT_EQ(Enc(ack, Opts(kV5)), expected) << Hex(Enc(ack, Opts(kV5)));
}

TEST(EncodeConnAckTest, V5Refusals) {
  ExpectRefused(ConnAck{false, ReasonCode::kServerShuttingDown, {}}, Opts(kV5));  // DISCONNECT's
  ConnAck alias;
  alias.properties.topic_alias = 1;  // a PUBLISH property
  ExpectRefused(alias, Opts(kV5));
  ConnAck zero;
  zero.properties.receive_maximum = 0;
  ExpectRefused(zero, Opts(kV5));
  ConnAck bad_utf8;
  bad_utf8.properties.reason_string = "\xED\xA0\x80";
  ExpectRefused(bad_utf8, Opts(kV5));
  ConnAck huge;
  huge.properties.assigned_client_identifier = std::string(65536, 'a');
  ExpectRefused(huge, Opts(kV5));
  ExpectRefused(ConnAck{}, Opts(ProtocolVersion::kUnknown));
}

// ---- PUBACK, PUBREC, PUBREL, PUBCOMP ----

TEST(EncodePubResponseTest, V311) {
  const std::pair<PacketType, int> types[] = {{PacketType::kPubAck, 0x40},
                                              {PacketType::kPubRec, 0x50},
                                              {PacketType::kPubRel, 0x62},
                                              {PacketType::kPubComp, 0x70}};
  for (const auto& [type, first] : types) {
    EXPECT_EQ(Enc(PublishResponse{type, 0x1234, ReasonCode::kSuccess, {}}, Opts(kV311)),
              B({first, 0x02, 0x12, 0x34}));
  }
  // A failed publish must not turn into a positive acknowledgement.
  ExpectRefused(PublishResponse{PacketType::kPubAck, 1, ReasonCode::kQuotaExceeded, {}},
                Opts(kV311));
}

TEST(EncodePubResponseTest, V5ShortestForms) {
  EXPECT_EQ(Enc(PublishResponse{PacketType::kPubAck, 7, ReasonCode::kSuccess, {}}, Opts(kV5)),
            B({0x40, 0x02, 0x00, 0x07}));
  EXPECT_EQ(Enc(PublishResponse{PacketType::kPubRec, 7, ReasonCode::kQuotaExceeded, {}}, Opts(kV5)),
            B({0x50, 0x03, 0x00, 0x07, 0x97}));
  EXPECT_EQ(Enc(PublishResponse{PacketType::kPubComp, 7, ReasonCode::kPacketIdentifierNotFound, {}},
                Opts(kV5)),
            B({0x70, 0x03, 0x00, 0x07, 0x92}));
}

TEST(EncodePubResponseTest, V5WithReasonString) {
  PublishResponse r{PacketType::kPubAck, 7, ReasonCode::kPayloadFormatInvalid, {}};
  r.properties.reason_string = "bad utf8";
  EXPECT_EQ(Enc(r, Opts(kV5)),
            Cat({B({0x40, 0x0F, 0x00, 0x07, 0x99, 0x0B, 0x1F}), Str("bad utf8")}));
  // A Success with properties needs the Reason Code byte too.
  PublishResponse ok{PacketType::kPubAck, 7, ReasonCode::kSuccess, {}};
  ok.properties.user_properties.push_back({"k", "v"});
  EXPECT_EQ(Enc(ok, Opts(kV5)),
            Cat({B({0x40, 0x0B, 0x00, 0x07, 0x00, 0x07, 0x26}), Str("k"), Str("v")}));
}

TEST(EncodePubResponseTest, Refusals) {
  ExpectRefused(PublishResponse{PacketType::kPubAck, 0, ReasonCode::kSuccess, {}}, Opts(kV5));
  ExpectRefused(PublishResponse{PacketType::kPubComp, 1, ReasonCode::kQuotaExceeded, {}},
                Opts(kV5));
  ExpectRefused(PublishResponse{PacketType::kPubAck, 1, ReasonCode::kPacketIdentifierNotFound, {}},
                Opts(kV5));
  ExpectRefused(PublishResponse{PacketType::kSubAck, 1, ReasonCode::kSuccess, {}}, Opts(kV5));
}

TEST(EncodeMaximumPacketSizeTest, DropsReasonStringAndUserPropertiesFirst) {
  PublishResponse r{PacketType::kPubAck, 7, ReasonCode::kQuotaExceeded, {}};
  r.properties.reason_string = std::string(100, 'x');
  r.properties.user_properties.push_back({"k", "v"});
  EXPECT_EQ(Enc(r, Opts(kV5, 10)), B({0x40, 0x03, 0x00, 0x07, 0x97}));  // MQTT-3.4.2-2/-3
  EXPECT_GT(Enc(r, Opts(kV5)).size(), 100u);
  // A packet that cannot be made small enough is not sent (MQTT-3.1.2-25).
  ExpectRefused(PublishResponse{PacketType::kPubAck, 7, ReasonCode::kSuccess, {}}, Opts(kV5, 3),
                Status::Code::kTooLarge);
  ConnAck ack;
  ack.properties.assigned_client_identifier = std::string(50, 'a');  // not droppable
  ExpectRefused(ack, Opts(kV5, 20), Status::Code::kTooLarge);
  EXPECT_EQ(Enc(PingResp{}, Opts(kV5, 2)), B({0xD0, 0x00}));  // exactly the limit
}

// ---- SUBACK, UNSUBACK, PINGRESP, DISCONNECT ----

TEST(EncodeSubAckTest, BothVersions) {
  SubAck a{10,
           {ReasonCode::kGrantedQos1, ReasonCode::kNotAuthorized, ReasonCode::kUnspecifiedError,
            ReasonCode::kGrantedQos0},
           {}};
  EXPECT_EQ(Enc(a, Opts(kV311)), B({0x90, 0x06, 0x00, 0x0A, 0x01, 0x80, 0x80, 0x00}));
  EXPECT_EQ(Enc(a, Opts(kV5)), B({0x90, 0x07, 0x00, 0x0A, 0x00, 0x01, 0x87, 0x80, 0x00}));
  SubAck refused{10,
                 {ReasonCode::kWildcardSubscriptionsNotSupported,
                  ReasonCode::kSharedSubscriptionsNotSupported},
                 {}};
  EXPECT_EQ(Enc(refused, Opts(kV5)), B({0x90, 0x05, 0x00, 0x0A, 0x00, 0xA2, 0x9E}));
  ExpectRefused(SubAck{10, {}, {}}, Opts(kV5));
  ExpectRefused(SubAck{0, {ReasonCode::kGrantedQos0}, {}}, Opts(kV5));
  ExpectRefused(SubAck{10, {ReasonCode::kPacketTooLarge}, {}}, Opts(kV5));
}

TEST(EncodeUnsubAckTest, BothVersions) {
  UnsubAck a{10, {ReasonCode::kSuccess, ReasonCode::kNoSubscriptionExisted}, {}};
  EXPECT_EQ(Enc(a, Opts(kV311)), B({0xB0, 0x02, 0x00, 0x0A}));
  EXPECT_EQ(Enc(a, Opts(kV5)), B({0xB0, 0x05, 0x00, 0x0A, 0x00, 0x00, 0x11}));
  ExpectRefused(UnsubAck{10, {}, {}}, Opts(kV5));
  ExpectRefused(UnsubAck{10, {ReasonCode::kQuotaExceeded}, {}}, Opts(kV5));
}

TEST(EncodePingRespTest, BothVersions) {
  EXPECT_EQ(Enc(PingResp{}, Opts(kV311)), B({0xD0, 0x00}));
  EXPECT_EQ(Enc(PingResp{}, Opts(kV5)), B({0xD0, 0x00}));
}

TEST(EncodeDisconnectTest, ServerDisconnect) {
  EXPECT_EQ(Enc(Disconnect{}, Opts(kV5)), B({0xE0, 0x00}));
  for (ReasonCode r : {ReasonCode::kProtocolError, ReasonCode::kKeepAliveTimeout,
                       ReasonCode::kServerShuttingDown, ReasonCode::kMalformedPacket}) {
    EXPECT_EQ(Enc(Disconnect{r, {}}, Opts(kV5)), B({0xE0, 0x01, static_cast<int>(r)}));
  }
  Disconnect big{ReasonCode::kPacketTooLarge, {}};
  big.properties.reason_string = "too big";
  EXPECT_EQ(Enc(big, Opts(kV5)), Cat({B({0xE0, 0x0C, 0x95, 0x0A, 0x1F}), Str("too big")}));
  Disconnect expiry;
  expiry.properties.session_expiry_interval = 0;  // never from a server (MQTT-3.14.2-2)
  ExpectRefused(expiry, Opts(kV5));
  ExpectRefused(Disconnect{}, Opts(kV311));  // 3.1.1 servers just close
  ExpectRefused(Disconnect{ReasonCode::kBadUserNameOrPassword, {}}, Opts(kV5));
}

TEST(EncodeServerPacketsTest, DecodeBackWhereTheTypeIsShared) {
  // PUBACK/PUBREC/PUBCOMP and DISCONNECT have the same layout in both directions.
  PublishResponse r{PacketType::kPubRec, 99, ReasonCode::kNotAuthorized, {}};
  r.properties.reason_string = "acl";
  r.properties.user_properties = {{"a", "b"}, {"a", "c"}};
  EXPECT_EQ(ExpectPacket<PublishResponse>(Enc(r, Opts(kV5)), kV5), r);
  Disconnect d{ReasonCode::kServerMoved, {}};
  d.properties.server_reference = "other:1883";
  EXPECT_EQ(ExpectPacket<Disconnect>(Enc(d, Opts(kV5)), kV5), d);
}

// ---- Client packets: round trips ----

std::vector<Packet> ClientPackets(ProtocolVersion v) {
  const bool v5 = v == kV5;
  std::vector<Packet> out;
  Connect c;
  c.version = v;
  c.clean_start = false;
  c.keep_alive = 65535;
  c.client_id = "dev\xC3\xA9";
  c.username = "user";
  c.password = B({0, 1, 2, 255});
  Will w{"last/will", B({0xFF, 0x00}), 2, !v5, {}};
  if (v5) {
    w.properties.will_delay_interval = 0xFFFFFFFF;
    w.properties.correlation_data = B({9});
    c.properties.session_expiry_interval = 0xFFFFFFFF;
    c.properties.receive_maximum = 65535;
    c.properties.maximum_packet_size = kMaxPacketSize;
    c.properties.request_problem_information = 1;
    c.properties.user_properties = {{"", ""}, {"k", "v"}};
  }
  c.will = w;
  out.push_back(c);
  Connect bare;
  bare.version = v;
  bare.client_id = "x";
  out.push_back(bare);

  Publish p;
  p.topic = std::string(65535, 't');  // the longest Topic Name
  p.payload = ByteVec(1000, 0x5A);
  out.push_back(p);
  Publish q1;
  q1.qos = 1;
  q1.dup = true;
  q1.packet_id = 1;
  q1.topic = "a/b";
  if (v5) {
    q1.properties.payload_format_indicator = 1;
    q1.properties.message_expiry_interval = 0;
    q1.properties.response_topic = "r";
    q1.properties.user_properties = {{"n", "1"}, {"n", "2"}};
  }
  out.push_back(q1);
  Publish q2 = q1;
  q2.qos = 2;
  q2.dup = false;
  q2.packet_id = 65535;
  q2.retain = !v5;
  out.push_back(q2);
  for (PacketType t :
       {PacketType::kPubAck, PacketType::kPubRec, PacketType::kPubRel, PacketType::kPubComp}) {
    out.push_back(PublishResponse{t, 42, ReasonCode::kSuccess, {}});
  }
  if (v5) {
    PublishResponse rel{PacketType::kPubRel, 42, ReasonCode::kPacketIdentifierNotFound, {}};
    rel.properties.reason_string = "gone";
    out.push_back(rel);
  }
  Subscribe s{5, {}, {{"a/#", 0, false, false, 0}, {"b/+", 2, false, false, 0}}};
  if (v5) {
    s.subscriptions[1] = {"b/+", 2, true, true, 2};
    s.properties.subscription_identifiers = {268'435'455};
  }
  out.push_back(s);
  out.push_back(Unsubscribe{6, {}, {"a/#", "b/+"}});
  out.push_back(PingReq{});
  out.push_back(Disconnect{});
  if (v5) {
    Disconnect d{ReasonCode::kDisconnectWithWillMessage, {}};
    d.properties.session_expiry_interval = 10;
    out.push_back(d);
    Auth a{ReasonCode::kReAuthenticate, {}};
    a.properties.authentication_method = "m";
    a.properties.authentication_data = B({1});
    out.push_back(a);
    out.push_back(Auth{});
  }
  return out;
}

void RoundTrip(ProtocolVersion v) {
  DecoderOptions o;
  o.retain_available = true;
  for (const Packet& p : ClientPackets(v)) {
    std::vector<uint8_t> bytes;
    Status s = EncodeClientPacket(p, Opts(v), &bytes);
    ASSERT_TRUE(s.ok()) << PacketTypeName(PacketTypeOf(p)) << ": " << s.message();
    const bool connect = std::holds_alternative<Connect>(p);
    DecodeResult r = Decode(bytes, connect ? ProtocolVersion::kUnknown : v, o);
    const auto* d = std::get_if<Decoded>(&r);
    ASSERT_NE(d, nullptr) << PacketTypeName(PacketTypeOf(p)) << ": "
                          << (std::holds_alternative<DecodeError>(r)
                                  ? std::get<DecodeError>(r).message
                                  : "need more");
    EXPECT_EQ(d->consumed, bytes.size());
    EXPECT_EQ(d->packet, p) << PacketTypeName(PacketTypeOf(p));
  }
}

TEST(EncodeClientPacketTest, RoundTripV311) { RoundTrip(kV311); }

TEST(EncodeClientPacketTest, RoundTripV5) { RoundTrip(kV5); }

TEST(EncodeClientPacketTest, Refusals) {
  std::vector<uint8_t> out;
  Publish long_topic;
  long_topic.topic = std::string(65536, 't');
  EXPECT_FALSE(EncodeClientPacket(long_topic, Opts(kV5), &out).ok());
  Publish qos0_with_id;
  qos0_with_id.topic = "t";
  qos0_with_id.packet_id = 3;
  EXPECT_FALSE(EncodeClientPacket(qos0_with_id, Opts(kV5), &out).ok());
  Subscribe two_ids{1, {}, {{"a", 0, false, false, 0}}};
  two_ids.properties.subscription_identifiers = {1, 2};
  EXPECT_FALSE(EncodeClientPacket(two_ids, Opts(kV5), &out).ok());
  Connect c;
  c.version = kV5;
  EXPECT_FALSE(EncodeClientPacket(c, Opts(kV311), &out).ok());  // version mismatch
  c.version = kV311;
  c.password = B({1});
  EXPECT_FALSE(EncodeClientPacket(c, Opts(kV311), &out).ok());  // Password without User Name
  EXPECT_FALSE(EncodeClientPacket(Auth{}, Opts(kV311), &out).ok());
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace cistern::mqtt
