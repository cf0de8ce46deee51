// Helpers for the MQTT codec tests: building packets byte by byte (so malformed ones can be
// written exactly), and unwrapping DecodeResult with readable failures.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ingest/mqtt/decoder.h"
#include "ingest/mqtt/packet.h"

namespace cistern::mqtt::testing {

using ByteVec = std::vector<uint8_t>;

inline ByteVec B(std::initializer_list<int> bytes) {
  ByteVec v;
  for (int b : bytes) v.push_back(static_cast<uint8_t>(b));
  return v;
}

inline ByteVec Raw(std::string_view s) { return ByteVec(s.begin(), s.end()); }

// A two-byte length prefix and the bytes (UTF-8 string or binary data, 1.5.4 / 1.5.6).
inline ByteVec Str(std::string_view s) {
  ByteVec v{static_cast<uint8_t>(s.size() >> 8), static_cast<uint8_t>(s.size())};
  v.insert(v.end(), s.begin(), s.end());
  return v;
}

inline ByteVec Cat(std::initializer_list<ByteVec> parts) {
  ByteVec v;
  for (const ByteVec& p : parts) v.insert(v.end(), p.begin(), p.end());
  return v;
}

// Independent of wire.cc: the spec's encoding algorithm (1.5.5).
inline ByteVec Vbi(uint32_t x) {
  ByteVec v;
  do {
    uint8_t b = x % 128;
    x /= 128;
    if (x > 0) b |= 128;
    v.push_back(b);
  } while (x > 0);
  return v;
}

// A whole packet: first byte, Remaining Length, body.
inline ByteVec Pkt(int first, const ByteVec& body) {
  ByteVec v{static_cast<uint8_t>(first)};
  ByteVec rl = Vbi(static_cast<uint32_t>(body.size()));
  v.insert(v.end(), rl.begin(), rl.end());
  v.insert(v.end(), body.begin(), body.end());
  return v;
}

// A property section: Property Length + the given properties.
inline ByteVec Props(const ByteVec& props) { return Cat({Vbi(props.size()), props}); }

inline std::string Hex(const ByteVec& v) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t b : v) {
    if (!s.empty()) s += ' ';
    s += d[b >> 4];
    s += d[b & 15];
  }
  return s;
}

inline DecodeResult Dec(const ByteVec& bytes, ProtocolVersion v,
                        const DecoderOptions& o = DecoderOptions()) {
  return Decode(bytes, v, o);
}

// The decoded packet of type T, checking that the whole buffer was one packet.
template <typename T>
T Expect(const DecodeResult& r, size_t consumed) {
  if (const auto* e = std::get_if<DecodeError>(&r)) {
    ADD_FAILURE() << "decode error " << static_cast<int>(e->reason) << ": " << e->message;
    return T{};
  }
  if (const auto* n = std::get_if<NeedMore>(&r)) {
    ADD_FAILURE() << "need more: " << n->total_bytes;
    return T{};
  }
  const Decoded& d = std::get<Decoded>(r);
  EXPECT_EQ(d.consumed, consumed);
  const T* p = std::get_if<T>(&d.packet);
  if (p == nullptr) {
    ADD_FAILURE() << "decoded " << PacketTypeName(PacketTypeOf(d.packet));
    return T{};
  }
  return *p;
}

template <typename T>
T ExpectPacket(const ByteVec& bytes, ProtocolVersion v,
               const DecoderOptions& o = DecoderOptions()) {
  return Expect<T>(Decode(bytes, v, o), bytes.size());
}

// The error, or a failure when the decode did not fail.
inline DecodeError ExpectError(const ByteVec& bytes, ProtocolVersion v,
                               const DecoderOptions& o = DecoderOptions()) {
  DecodeResult r = Decode(bytes, v, o);
  if (const auto* e = std::get_if<DecodeError>(&r)) {
    EXPECT_FALSE(e->message.empty());
    return *e;
  }
  ADD_FAILURE() << "expected an error for " << Hex(bytes)
                << (std::holds_alternative<NeedMore>(r) ? " (got NeedMore)" : " (got a packet)");
  return DecodeError{ReasonCode::kSuccess, "", ProtocolVersion::kUnknown};
}

inline ReasonCode ErrorReason(const ByteVec& bytes, ProtocolVersion v,
                              const DecoderOptions& o = DecoderOptions()) {
  return ExpectError(bytes, v, o).reason;
}

}  // namespace cistern::mqtt::testing
