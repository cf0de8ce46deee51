// Tests for Gunzip (src/event/gzip.h). The compressed inputs are made here with zlib's own
// deflate, so the tests do not depend on the code under test to produce them.
#include "event/gzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace cistern {
namespace {

// Compresses `data` as one gzip member (windowBits 15 + 16 = gzip wrapper).
std::string Gzip(std::string_view data, int level = Z_DEFAULT_COMPRESSION) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Deterministic bytes that do not compress to nothing.
std::string Noise(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 2463534242u;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

TEST(GunzipTest, RoundTripsText) {
  const std::string original = R"({"device_id":"d1","kind":"k","payload":{"a":[1,2,3]}})";
  std::string out;
  Status s = Gunzip(Gzip(original), 1 << 20, &out);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(out, original);
}

TEST(GunzipTest, RoundTripsBinaryLargerThanInitialBuffer) {
  // Highly compressible and incompressible data, both bigger than the first output buffer,
  // so the output has to grow several times.
  for (const std::string& original : {std::string(3 << 20, 'a'), Noise(700'000)}) {
    std::string out;
    Status s = Gunzip(Gzip(original), 8 << 20, &out);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_EQ(out.size(), original.size());
    EXPECT_TRUE(out == original);
  }
}

TEST(GunzipTest, EmptyPayloadRoundTrips) {
  std::string out = "stale";
  Status s = Gunzip(Gzip(""), 1024, &out);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(out, "");
}

TEST(GunzipTest, ConcatenatedMembersAreJoined) {
  const std::string a = "first member\n", b = Noise(10'000), c = "third";
  std::string out;
  Status s = Gunzip(Gzip(a) + Gzip(b, Z_BEST_SPEED) + Gzip(c), 1 << 20, &out);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(out == a + b + c);
}

TEST(GunzipTest, TruncatedStreamIsInvalid) {
  const std::string gz = Gzip(Noise(5000));
  // Cut inside the deflate data, inside the 8-byte trailer, and right after the header.
  for (size_t keep : {gz.size() / 2, gz.size() - 4, gz.size() - 1, size_t{10}, size_t{3}}) {
    std::string out;
    Status s = Gunzip(std::string_view(gz).substr(0, keep), 1 << 20, &out);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << "kept " << keep << ": " << s.message();
    EXPECT_TRUE(out.empty()) << "kept " << keep;
  }
}

TEST(GunzipTest, TruncatedSecondMemberIsInvalid) {
  const std::string second = Gzip("second");
  std::string out;
  Status s = Gunzip(Gzip("first") + second.substr(0, second.size() - 3), 1024, &out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.message();
  EXPECT_TRUE(out.empty());
}

TEST(GunzipTest, EmptyInputIsInvalid) {
  std::string out;
  EXPECT_EQ(Gunzip("", 1024, &out).code(), Status::Code::kInvalidArgument);
}

TEST(GunzipTest, GarbageIsInvalid) {
  for (const std::string& garbage :
       {std::string("this is not gzip at all"), Noise(4096), std::string(100, '\0'),
        // A plain zlib stream (wrong wrapper) must not be accepted as gzip.
        std::string("\x78\x9c\x4b\x04\x00\x00\x62\x00\x62", 9)}) {
    std::string out;
    Status s = Gunzip(garbage, 1 << 20, &out);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.message();
    EXPECT_TRUE(out.empty());
  }
}

TEST(GunzipTest, CorruptCrcIsInvalid) {
  std::string gz = Gzip("hello hello hello");
  gz[gz.size() - 8] ^= 0x01;  // first byte of the CRC32 trailer
  std::string out;
  Status s = Gunzip(gz, 1024, &out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.message();
  EXPECT_TRUE(out.empty());
}

TEST(GunzipTest, TrailingGarbageAfterMemberIsInvalid) {
  std::string out;
  Status s = Gunzip(Gzip("payload") + "junk!", 1024, &out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.message();
}

TEST(GunzipTest, OutputExactlyAtLimitIsAccepted) {
  // Sizes around the internal buffer's first size and its growth steps.
  for (size_t n :
       {size_t{1}, size_t{4095}, size_t{4096}, size_t{4097}, size_t{100'000}, size_t{1 << 20}}) {
    const std::string original = Noise(n);
    std::string out;
    Status s = Gunzip(Gzip(original), n, &out);
    ASSERT_TRUE(s.ok()) << "n=" << n << ": " << s.message();
    EXPECT_TRUE(out == original) << "n=" << n;
  }
}

TEST(GunzipTest, OneByteOverLimitIsTooLarge) {
  for (size_t n : {size_t{1}, size_t{4096}, size_t{4097}, size_t{100'000}, size_t{1 << 20}}) {
    std::string out;
    Status s = Gunzip(Gzip(Noise(n + 1)), n, &out);
    EXPECT_EQ(s.code(), Status::Code::kTooLarge) << "n=" << n << ": " << s.message();
    EXPECT_TRUE(out.empty()) << "n=" << n;
  }
}

TEST(GunzipTest, LimitAppliesToConcatenatedMembersTogether) {
  // Each member is under the limit; together they are over it.
  const std::string member = Gzip(std::string(600, 'x'));
  std::string out;
  Status s = Gunzip(member + member, 1000, &out);
  EXPECT_EQ(s.code(), Status::Code::kTooLarge) << s.message();
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(Gunzip(member + member, 1200, &out).ok());
  EXPECT_EQ(out, std::string(1200, 'x'));
}

TEST(GunzipTest, BombIsStoppedEarly) {
  const std::string bomb = Gzip(std::string(50 << 20, '\0'), Z_BEST_COMPRESSION);
  ASSERT_LT(bomb.size(), 100'000u);  // ~1000:1, a real bomb
  std::string out;
  auto start = std::chrono::steady_clock::now();
  Status s = Gunzip(bomb, 1 << 20, &out);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(s.code(), Status::Code::kTooLarge) << s.message();
  EXPECT_TRUE(out.empty());
  // Inflating 1 MiB takes about a millisecond; all 50 MiB would take far longer. The bound is
  // generous so a loaded machine does not make this flaky.
  EXPECT_LT(elapsed, std::chrono::milliseconds(500));
  // The output buffer was never grown to anything near the bomb's size.
  EXPECT_LE(out.capacity(), size_t{4} << 20);
}

// "Decompression stops there": a bomb whose tail is cut off must still be reported as too
// large, because the corruption lies past the point where inflating should have stopped.
TEST(GunzipTest, TruncatedBombIsTooLargeNotInvalid) {
  const std::string bomb = Gzip(std::string(50 << 20, 'z'), Z_BEST_COMPRESSION);
  std::string out;
  Status s = Gunzip(std::string_view(bomb).substr(0, bomb.size() - 100), 1 << 20, &out);
  EXPECT_EQ(s.code(), Status::Code::kTooLarge) << s.message();
  EXPECT_TRUE(out.empty());
}

TEST(GunzipTest, OutIsReplacedNotAppended) {
  std::string out = "previous content";
  ASSERT_TRUE(Gunzip(Gzip("new"), 1024, &out).ok());
  EXPECT_EQ(out, "new");
}

}  // namespace
}  // namespace cistern
