// Tests for the MQTT data representations (src/ingest/mqtt/wire.h): Variable Byte Integers
// (5.0 section 1.5.5), UTF-8 strings (1.5.4), the bounds-checked Reader.
#include "ingest/mqtt/wire.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/ingest/mqtt/test_bytes.h"

namespace cistern::mqtt {
namespace {

using testing::B;
using testing::ByteVec;

struct VbiCase {
  uint32_t value;
  ByteVec bytes;
};

// The boundaries of table 1-1 (5.0 section 1.5.5; 3.1.1 table 2.4).
const std::vector<VbiCase>& VbiCases() {
  static const std::vector<VbiCase> cases = {
      {0, B({0x00})},
      {127, B({0x7F})},
      {128, B({0x80, 0x01})},
      {321, B({0xC1, 0x02})},
      {16'383, B({0xFF, 0x7F})},
      {16'384, B({0x80, 0x80, 0x01})},
      {2'097'151, B({0xFF, 0xFF, 0x7F})},
      {2'097'152, B({0x80, 0x80, 0x80, 0x01})},
      {268'435'455, B({0xFF, 0xFF, 0xFF, 0x7F})},
  };
  return cases;
}

TEST(VariableByteIntegerTest, DecodesTheSpecBoundaries) {
  for (const VbiCase& c : VbiCases()) {
    ByteVec in = c.bytes;
    in.push_back(0xAA);  // a following byte is not part of the integer
    VbiResult r = DecodeVariableByteInteger(in);
    EXPECT_EQ(r.status, VbiStatus::kOk) << c.value;
    EXPECT_EQ(r.value, c.value);
    EXPECT_EQ(r.length, c.bytes.size()) << c.value;
  }
}

TEST(VariableByteIntegerTest, EncodesTheSpecBoundaries) {
  for (const VbiCase& c : VbiCases()) {
    std::vector<uint8_t> out = {0x55};
    AppendVbi(c.value, &out);
    EXPECT_EQ(ByteVec(out.begin() + 1, out.end()), c.bytes) << c.value;
    EXPECT_EQ(VariableByteIntegerSize(c.value), c.bytes.size()) << c.value;
  }
}

TEST(VariableByteIntegerTest, RefusesFiveBytes) {
  EXPECT_EQ(DecodeVariableByteInteger(B({0xFF, 0xFF, 0xFF, 0xFF, 0x7F})).status,
            VbiStatus::kMalformed);
  EXPECT_EQ(DecodeVariableByteInteger(B({0x80, 0x80, 0x80, 0x80})).status, VbiStatus::kMalformed);
}

TEST(VariableByteIntegerTest, RefusesOverlongEncodings) {
  // MQTT-1.5.5-1: the minimum number of bytes. A last byte of 0 after a continuation byte
  // could always have been left out.
  for (const ByteVec& overlong :
       {B({0x80, 0x00}), B({0xFF, 0x00}), B({0x80, 0x80, 0x00}), B({0x81, 0x80, 0x80, 0x00})}) {
    EXPECT_EQ(DecodeVariableByteInteger(overlong).status, VbiStatus::kMalformed)
        << testing::Hex(overlong);
  }
}

TEST(VariableByteIntegerTest, NeedMoreReportsSeenBytesAndTheSmallestPossibleValue) {
  VbiResult r = DecodeVariableByteInteger({});
  EXPECT_EQ(r.status, VbiStatus::kNeedMore);
  EXPECT_EQ(r.length, 0u);
  EXPECT_EQ(r.lower_bound, 0u);

  r = DecodeVariableByteInteger(B({0x80}));
  EXPECT_EQ(r.status, VbiStatus::kNeedMore);
  EXPECT_EQ(r.length, 1u);
  EXPECT_EQ(r.lower_bound, 128u);  // 0x80 0x01

  r = DecodeVariableByteInteger(B({0xFF, 0xFF}));
  EXPECT_EQ(r.status, VbiStatus::kNeedMore);
  EXPECT_EQ(r.lower_bound, 32'767u);  // 0xFF 0xFF 0x01

  r = DecodeVariableByteInteger(B({0x80, 0x80, 0x80}));
  EXPECT_EQ(r.lower_bound, 2'097'152u);  // 0x80 0x80 0x80 0x01
}

TEST(Utf8Test, AcceptsWellFormedText) {
  for (const ByteVec& ok : {
           B({}), testing::Raw("plain ascii/topic"), B({0xC3, 0xA9}),  // U+00E9
           B({0xE2, 0x82, 0xAC}),                                      // U+20AC
           B({0xEF, 0xBB, 0xBF}),        // U+FEFF, kept (MQTT-1.5.4-3)
           B({0xED, 0x9F, 0xBF}),        // U+D7FF, just below the surrogates
           B({0xEE, 0x80, 0x80}),        // U+E000, just above them
           B({0xF0, 0x90, 0x80, 0x80}),  // U+10000
           B({0xF4, 0x8F, 0xBF, 0xBF}),  // U+10FFFF
           B({0x01, 0x7F}),              // controls: "SHOULD NOT", accepted
       }) {
    EXPECT_TRUE(IsWellFormedUtf8(ok)) << testing::Hex(ok);
    EXPECT_TRUE(IsValidMqttString(std::string(ok.begin(), ok.end()))) << testing::Hex(ok);
  }
}

TEST(Utf8Test, RefusesIllFormedText) {
  for (const ByteVec& bad : {
           B({0x80}),                    // continuation without a lead byte
           B({0xC3}),                    // truncated
           B({0xE2, 0x82}),              // truncated
           B({0xC3, 0x28}),              // bad continuation
           B({0xC0, 0x80}),              // overlong U+0000
           B({0xC1, 0xBF}),              // overlong U+007F
           B({0xE0, 0x80, 0x80}),        // overlong 3-byte
           B({0xF0, 0x80, 0x80, 0x80}),  // overlong 4-byte
           B({0xED, 0xA0, 0x80}),        // U+D800, a surrogate (MQTT-1.5.4-1)
           B({0xED, 0xBF, 0xBF}),        // U+DFFF
           B({0xF4, 0x90, 0x80, 0x80}),  // U+110000
           B({0xF5, 0x80, 0x80, 0x80}), B({0xF8, 0x88, 0x80, 0x80, 0x80}), B({0xFF}),
           B({0x61, 0xE2, 0x82, 0xAC, 0x80}),  // valid text, then a stray byte
       }) {
    EXPECT_FALSE(IsWellFormedUtf8(bad)) << testing::Hex(bad);
    EXPECT_FALSE(IsValidMqttString(std::string(bad.begin(), bad.end()))) << testing::Hex(bad);
  }
}

TEST(Utf8Test, NulIsWellFormedButNotAnMqttString) {
  const ByteVec nul = B({0x61, 0x00, 0x62});
  EXPECT_TRUE(IsWellFormedUtf8(nul));                                    // payloads may hold U+0000
  EXPECT_FALSE(IsValidMqttString(std::string(nul.begin(), nul.end())));  // MQTT-1.5.4-2
}

TEST(TopicTest, Wildcards) {
  EXPECT_FALSE(HasWildcard("sensors/temp/1"));
  EXPECT_FALSE(HasWildcard("$SYS/x"));
  EXPECT_TRUE(HasWildcard("sensors/+/1"));
  EXPECT_TRUE(HasWildcard("sensors/#"));
  EXPECT_TRUE(HasWildcard("a+b"));
}

TEST(ReaderTest, ReadsBigEndianFieldsInOrder) {
  const ByteVec in = B({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0xC1, 0x02});
  Reader r(in);
  uint8_t b;
  uint16_t u16;
  uint32_t u32, vbi;
  ASSERT_TRUE(r.ReadByte(&b, "b"));
  ASSERT_TRUE(r.ReadU16(&u16, "u16"));
  ASSERT_TRUE(r.ReadU32(&u32, "u32"));
  ASSERT_TRUE(r.ReadVbi(&vbi, "vbi"));
  EXPECT_EQ(b, 0x01);
  EXPECT_EQ(u16, 0x0203);
  EXPECT_EQ(u32, 0x04050607u);
  EXPECT_EQ(vbi, 321u);
  EXPECT_TRUE(r.empty());
}

TEST(ReaderTest, FieldsPastTheEndAreMalformed) {
  const ByteVec in = B({0x00, 0x05, 'a', 'b'});  // a string claiming 5 bytes, 2 present
  Reader r(in);
  std::string s;
  EXPECT_FALSE(r.ReadString(&s, "Topic Name"));
  EXPECT_EQ(r.error().reason, ReasonCode::kMalformedPacket);
  EXPECT_NE(r.error().message.find("Topic Name"), std::string::npos);

  const ByteVec one = B({0x12});
  Reader r2(one);
  uint16_t u16;
  EXPECT_FALSE(r2.ReadU16(&u16, "x"));
  const ByteVec cut = B({0x80});  // a Variable Byte Integer cut short
  Reader r3(cut);
  uint32_t v;
  EXPECT_FALSE(r3.ReadVbi(&v, "x"));
  EXPECT_EQ(r3.error().reason, ReasonCode::kMalformedPacket);
}

TEST(ReaderTest, StringsMustBeValidUtf8WithoutNul) {
  std::string s;
  const ByteVec surrogate = testing::Str("a\xED\xA0\x80");
  Reader bad(surrogate);
  EXPECT_FALSE(bad.ReadString(&s, "s"));
  EXPECT_EQ(bad.error().reason, ReasonCode::kMalformedPacket);
  const ByteVec with_nul = testing::Str(std::string("a\0b", 3));
  Reader nul(with_nul);
  EXPECT_FALSE(nul.ReadString(&s, "s"));
  // Binary data is not UTF-8 checked.
  Bytes bin;
  const ByteVec raw = testing::Str(std::string("a\0\xFF", 3));
  Reader binary(raw);
  ASSERT_TRUE(binary.ReadBinary(&bin, "b"));
  EXPECT_EQ(bin, B({'a', 0x00, 0xFF}));
}

TEST(ReaderTest, TheFirstErrorWins) {
  const ByteVec none;
  Reader r(none);
  uint8_t b;
  EXPECT_FALSE(r.ReadByte(&b, "first"));
  r.Fail(ReasonCode::kProtocolError, "second");
  EXPECT_EQ(r.error().reason, ReasonCode::kMalformedPacket);
  EXPECT_NE(r.error().message.find("first"), std::string::npos);
}

}  // namespace
}  // namespace cistern::mqtt
