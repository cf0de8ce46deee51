// The framer (src/ingest/mqtt/decoder.h): fixed header, Remaining Length, maximum packet
// size, packet types and reserved flags, the first-packet rule, and incremental feeding.
#include <gtest/gtest.h>

#include <vector>

#include "ingest/mqtt/decoder.h"
#include "ingest/mqtt/encoder.h"
#include "tests/ingest/mqtt/test_bytes.h"

namespace cistern::mqtt {
namespace {

using namespace testing;  // NOLINT: the byte-building helpers

constexpr auto kUnknown = ProtocolVersion::kUnknown;
constexpr auto kV311 = ProtocolVersion::kV311;
constexpr auto kV5 = ProtocolVersion::kV5;

size_t NeedOf(const DecodeResult& r) {
  const auto* n = std::get_if<NeedMore>(&r);
  if (n == nullptr) {
    ADD_FAILURE() << "not NeedMore";
    return 0;
  }
  return n->total_bytes;
}

TEST(DecodeFramingTest, AsksForTheFixedHeaderByteByByte) {
  EXPECT_EQ(NeedOf(Dec({}, kUnknown)), 1u);
  EXPECT_EQ(NeedOf(Dec(B({0x10}), kUnknown)), 2u);
  EXPECT_EQ(NeedOf(Dec(B({0x10, 0x80}), kUnknown)), 3u);
  EXPECT_EQ(NeedOf(Dec(B({0x10, 0x80, 0x80}), kUnknown)), 4u);
  // Remaining Length known: the whole packet.
  EXPECT_EQ(NeedOf(Dec(B({0x10, 0x0C}), kUnknown)), 14u);
  EXPECT_EQ(NeedOf(Dec(B({0x10, 0xC1, 0x02, 0x00}), kUnknown)), 324u);  // 321 + 3
}

TEST(DecodeFramingTest, ConsumesOnePacketAtATime) {
  const ByteVec two = Cat({B({0xC0, 0x00}), B({0xE0, 0x00})});
  EXPECT_EQ(Expect<PingReq>(Dec(two, kV311), 2), PingReq{});
  DecodeResult second = Dec(ByteVec(two.begin() + 2, two.end()), kV311);
  EXPECT_EQ(Expect<Disconnect>(second, 2).reason, ReasonCode::kNormalDisconnection);
}

TEST(DecodeFramingTest, MaximumPacketSizeIsInclusive) {
  DecoderOptions o;
  o.maximum_packet_size = 64;
  // PUBLISH QoS 0: 2 header bytes + topic "t" (3) + payload; 64 bytes in all.
  const ByteVec fits = Pkt(0x30, Cat({Str("t"), ByteVec(59, 'x')}));
  ASSERT_EQ(fits.size(), 64u);
  EXPECT_EQ(ExpectPacket<Publish>(fits, kV311, o).payload.size(), 59u);
  const ByteVec over = Pkt(0x30, Cat({Str("t"), ByteVec(60, 'x')}));
  DecodeError e = ExpectError(over, kV311, o);
  EXPECT_EQ(e.reason, ReasonCode::kPacketTooLarge);
}

TEST(DecodeFramingTest, OversizeIsRefusedBeforeTheBodyArrives) {
  DecoderOptions o;
  o.maximum_packet_size = 1000;
  // Only the fixed header of a 1001-byte packet is here.
  const ByteVec header = B({0x30, 0xE6, 0x07});  // Remaining Length 998: 1 + 2 + 998
  EXPECT_EQ(ExpectError(header, kV5, o).reason, ReasonCode::kPacketTooLarge);
  EXPECT_EQ(NeedOf(Dec(B({0x30, 0xE5, 0x07}), kV5, o)), 1000u);  // exactly the maximum
  // A Remaining Length still incomplete but already too large: two continuation bytes mean at
  // least 16,384 (a minimal encoding), and the peer could otherwise make us wait for nothing.
  EXPECT_EQ(ExpectError(B({0x30, 0x80, 0x80}), kV5, o).reason, ReasonCode::kPacketTooLarge);
  o.maximum_packet_size = 100;
  EXPECT_EQ(ExpectError(B({0x30, 0xFF}), kV5, o).reason, ReasonCode::kPacketTooLarge);
  // The largest possible Remaining Length against the default limit (1 MiB).
  EXPECT_EQ(ExpectError(B({0x30, 0xFF, 0xFF, 0xFF, 0x7F}), kV5).reason,
            ReasonCode::kPacketTooLarge);
}

TEST(DecodeFramingTest, NeedMoreNeverExceedsTheMaximum) {
  DecoderOptions o;
  o.maximum_packet_size = 300;
  for (uint32_t rl : {0u, 1u, 127u, 128u, 200u, 297u}) {
    ByteVec header = Cat({B({0x30}), Vbi(rl)});
    DecodeResult r = Dec(header, kV311, o);
    if (rl == 0) {
      EXPECT_TRUE(std::holds_alternative<DecodeError>(r));  // a PUBLISH needs a topic
      continue;
    }
    EXPECT_EQ(NeedOf(r), header.size() + rl);
    EXPECT_LE(NeedOf(r), 300u);
  }
}

TEST(DecodeFramingTest, MalformedRemainingLength) {
  EXPECT_EQ(ErrorReason(B({0xC0, 0x80, 0x80, 0x80, 0x80, 0x01}), kV5),
            ReasonCode::kMalformedPacket);                                           // five bytes
  EXPECT_EQ(ErrorReason(B({0xC0, 0x80, 0x00}), kV5), ReasonCode::kMalformedPacket);  // overlong
  EXPECT_EQ(ErrorReason(B({0xC0, 0x80, 0x00}), kV311), ReasonCode::kMalformedPacket);
}

TEST(DecodeFramingTest, FirstPacketMustBeConnectAndOnlyOnce) {
  DecodeError e = ExpectError(B({0xC0, 0x00}), kUnknown);  // PINGREQ first (MQTT-3.1.0-1)
  EXPECT_EQ(e.reason, ReasonCode::kProtocolError);
  EXPECT_EQ(e.connack_version, kUnknown);
  EXPECT_EQ(ErrorReason(B({0xF0, 0x00}), kUnknown), ReasonCode::kProtocolError);  // AUTH first
  // A second CONNECT (MQTT-3.1.0-2), refused from its first byte.
  EXPECT_EQ(ErrorReason(B({0x10}), kV311), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorReason(B({0x10}), kV5), ReasonCode::kProtocolError);
}

TEST(DecodeFramingTest, PacketTypesAClientMayNotSend) {
  for (int first : {0x20, 0x90, 0xB0, 0xD0}) {  // CONNACK, SUBACK, UNSUBACK, PINGRESP
    EXPECT_EQ(ErrorReason(B({first}), kV5), ReasonCode::kProtocolError) << first;
    EXPECT_EQ(ErrorReason(B({first}), kV311), ReasonCode::kProtocolError) << first;
  }
  EXPECT_EQ(ErrorReason(B({0x00}), kV5), ReasonCode::kMalformedPacket);    // reserved type 0
  EXPECT_EQ(ErrorReason(B({0xF0}), kV311), ReasonCode::kMalformedPacket);  // AUTH in 3.1.1
}

TEST(DecodeFramingTest, ReservedFlagBitsAreRefusedFromTheFirstByte) {
  // 2.1.3 table 2-2: every flag pattern but the listed one is malformed. Each is refused with
  // only its first byte buffered.
  struct Case {
    int first;
    ProtocolVersion version;
  };
  const Case cases[] = {
      {0x11, kUnknown}, {0x18, kUnknown},               // CONNECT
      {0x41, kV5},      {0x48, kV311},                  // PUBACK
      {0x52, kV5},                                      // PUBREC
      {0x60, kV5},      {0x63, kV311},    {0x6A, kV5},  // PUBREL must be 0010
      {0x71, kV5},                                      // PUBCOMP
      {0x80, kV5},      {0x83, kV311},                  // SUBSCRIBE must be 0010
      {0xA0, kV5},      {0xA6, kV311},                  // UNSUBSCRIBE must be 0010
      {0xC1, kV5},      {0xC8, kV311},                  // PINGREQ
      {0xE2, kV5},      {0xE4, kV311},                  // DISCONNECT
      {0xF1, kV5},                                      // AUTH
      {0x36, kV5},      {0x37, kV311},                  // PUBLISH QoS 3 (MQTT-3.3.1-4)
      {0x38, kV5},      {0x39, kV311},                  // PUBLISH QoS 0 with DUP (MQTT-3.3.1-2)
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ErrorReason(B({c.first}), c.version), ReasonCode::kMalformedPacket) << c.first;
  }
}

// Encodes `packets` back to back, then feeds the stream one byte at a time: each call must
// return NeedMore (asking for more than it has, never over the maximum, and for exactly the
// packet's size once the fixed header is complete) until a packet is whole, and the packets
// must come out equal to those encoded.
void FeedByteByByte(const std::vector<Packet>& packets, ProtocolVersion version) {
  EncodeOptions eo;
  eo.version = version;
  std::vector<uint8_t> stream;
  std::vector<size_t> ends;
  for (const Packet& p : packets) {
    Status s = EncodeClientPacket(p, eo, &stream);
    ASSERT_TRUE(s.ok()) << s.message();
    ends.push_back(stream.size());
  }
  DecoderOptions o;
  std::vector<Packet> decoded;
  std::vector<uint8_t> buffer;
  ProtocolVersion negotiated = ProtocolVersion::kUnknown;
  size_t start = 0;
  for (size_t i = 0; i < stream.size(); ++i) {
    buffer.push_back(stream[i]);
    DecodeResult r = Decode(buffer, negotiated, o);
    const size_t end = ends[decoded.size()];
    if (i + 1 < end) {
      const auto* need = std::get_if<NeedMore>(&r);
      ASSERT_NE(need, nullptr) << "byte " << i;
      EXPECT_GT(need->total_bytes, buffer.size());
      EXPECT_LE(need->total_bytes, o.maximum_packet_size);
      // The fixed header ends at the first Remaining Length byte without continuation bit.
      size_t header = 2;
      while (stream[start + header - 1] & 0x80) ++header;
      const size_t expected = buffer.size() < header ? buffer.size() + 1 : end - start;
      EXPECT_EQ(need->total_bytes, expected) << "byte " << i;
      continue;
    }
    auto* d = std::get_if<Decoded>(&r);
    ASSERT_NE(d, nullptr) << "byte " << i;
    EXPECT_EQ(d->consumed, end - start);
    if (auto* c = std::get_if<Connect>(&d->packet)) negotiated = c->version;
    decoded.push_back(std::move(d->packet));
    buffer.clear();
    start = end;
  }
  EXPECT_EQ(decoded, packets);
}

Connect MakeConnect(ProtocolVersion v) {
  Connect c;
  c.version = v;
  c.client_id = "sensor-7";
  c.keep_alive = 15;
  c.username = "u";
  c.password = B({1, 2, 3});
  c.will = Will{"sensors/7/status", Raw("gone"), 1, false, {}};
  if (v == kV5) {
    c.properties.session_expiry_interval = 60;
    c.properties.user_properties.push_back({"fw", "1.2"});
    c.will->properties.will_delay_interval = 5;
  }
  return c;
}

std::vector<Packet> AConversation(ProtocolVersion v) {
  std::vector<Packet> p;
  p.push_back(MakeConnect(v));
  Publish q0;
  q0.topic = "sensors/7/temp";
  q0.payload = Raw("21.5");
  p.push_back(q0);
  Publish q1 = q0;
  q1.qos = 1;
  q1.packet_id = 1;
  q1.dup = true;
  q1.payload = ByteVec(300, 0xAB);  // a two-byte Remaining Length
  if (v == kV5) q1.properties.content_type = "application/octet-stream";
  p.push_back(q1);
  Publish q2 = q0;
  q2.qos = 2;
  q2.packet_id = 65535;
  p.push_back(q2);
  p.push_back(PublishResponse{PacketType::kPubRel, 65535, ReasonCode::kSuccess, {}});
  p.push_back(Subscribe{9, {}, {Subscription{"cmd/7/#", 1, false, false, 0}}});
  p.push_back(Unsubscribe{10, {}, {"cmd/7/#"}});
  p.push_back(PingReq{});
  p.push_back(Disconnect{});
  return p;
}

TEST(DecodeFramingTest, ByteByByteV311) { FeedByteByByte(AConversation(kV311), kV311); }

TEST(DecodeFramingTest, ByteByByteV5) { FeedByteByByte(AConversation(kV5), kV5); }

TEST(DecodeFramingTest, ReadFixedHeaderAlone) {
  auto r = ReadFixedHeader(B({0x62, 0x02}), kV5, DecoderOptions());
  const FixedHeader* h = std::get_if<FixedHeader>(&r);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->type, PacketType::kPubRel);
  EXPECT_EQ(h->flags, 0x02);
  EXPECT_EQ(h->remaining_length, 2u);
  EXPECT_EQ(h->header_size, 2u);
  EXPECT_EQ(h->packet_size(), 4u);
}

}  // namespace
}  // namespace cistern::mqtt
