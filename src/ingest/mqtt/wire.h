// MQTT data representations (5.0 section 1.5; 3.1.1 section 1.5 and 2.2.3): integers,
// Variable Byte Integers, UTF-8 strings and binary data, read from untrusted bytes and
// appended to an output buffer. Shared by the decoder, the property codec and the encoders.
//
// Pure functions and a cursor type; no allocation except into the strings/vectors a caller
// asks to be filled. Thread-safety: none needed (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/mqtt/packet.h"

namespace cistern::mqtt {

// Why a packet was refused: the reason code a 5.0 server sends in its CONNACK or DISCONNECT
// (4.13), and a message for the log.
struct DecodeError {
  ReasonCode reason = ReasonCode::kMalformedPacket;
  std::string message;
  // Set only for a refused CONNECT: the protocol version whose CONNACK format the session
  // should answer in before closing (kV5: a CONNACK with `reason`; kV311: a CONNACK with
  // ToV311ConnectReturnCode(reason)). kUnknown: close without a CONNACK (3.1.1: MQTT-3.1.4-1;
  // 5.0: the protocol name or level was not MQTT's, or the packet could not be read that far).
  ProtocolVersion connack_version = ProtocolVersion::kUnknown;
  bool operator==(const DecodeError&) const = default;
};

// ---- Variable Byte Integer (1.5.5) ----------------------------------------------------------

enum class VbiStatus { kOk, kNeedMore, kMalformed };

struct VbiResult {
  VbiStatus status = VbiStatus::kNeedMore;
  uint32_t value = 0;  // kOk: the value
  size_t length = 0;   // kOk: bytes used (1-4); kNeedMore: bytes seen so far
  // kNeedMore: the smallest value the complete integer can have. A minimal encoding ends in a
  // non-zero byte, so after k continuation bytes the value is at least partial + 128^k.
  uint32_t lower_bound = 0;
};

// Decodes the Variable Byte Integer at the start of `in`. kMalformed when a fifth byte would
// be needed, or when the encoding is longer than necessary (a last byte of 0 after a
// continuation byte): 5.0 forbids that (MQTT-1.5.5-1), and Cistern refuses it for 3.1.1 too
// (3.1.1: 2.2.3 defines the same minimal encoding; no client is known to send another).
VbiResult DecodeVariableByteInteger(std::span<const uint8_t> in);
// 1-4. REQUIRES: value <= kMaxRemainingLength.
size_t VariableByteIntegerSize(uint32_t value);

// ---- UTF-8 (1.5.4) --------------------------------------------------------------------------

// Well-formed UTF-8 per RFC 3629: no overlong forms, no surrogates (U+D800-U+DFFF), nothing
// above U+10FFFF. Used for payloads with Payload Format Indicator 1 (3.3.2.3.2).
bool IsWellFormedUtf8(std::span<const uint8_t> bytes);
// A valid MQTT UTF-8 Encoded String: well-formed and without U+0000 (MQTT-1.5.4-1, -2).
// The "SHOULD NOT" code points (controls, non-characters) are accepted (1.5.4 lets a receiver
// choose); U+FEFF is kept as is (MQTT-1.5.4-3).
bool IsValidMqttString(std::string_view s);
// '+' or '#' anywhere: not allowed in a Topic Name (MQTT-3.3.2-2, MQTT-4.7.0-1).
bool HasWildcard(std::string_view topic);

// ---- Reading --------------------------------------------------------------------------------

// A bounds-checked cursor over one packet's bytes. Every Read* returns false, leaves its output
// unspecified and records an error (the first one wins) when the field does not fit in what is
// left or is not valid: a Malformed Packet (0x81) unless stated. `what` names the field in the
// error message. Never reads outside `in`.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}

  bool ReadByte(uint8_t* v, std::string_view what);
  bool ReadU16(uint16_t* v, std::string_view what);
  bool ReadU32(uint32_t* v, std::string_view what);
  bool ReadVbi(uint32_t* v, std::string_view what);
  // A UTF-8 Encoded String; refused unless IsValidMqttString.
  bool ReadString(std::string* v, std::string_view what);
  // Binary Data: a two-byte length and that many bytes.
  bool ReadBinary(Bytes* v, std::string_view what);
  // Everything left (a PUBLISH payload).
  void ReadRest(Bytes* v);
  // The next n bytes as a span (for a nested section); false if fewer are left.
  bool ReadSpan(size_t n, std::span<const uint8_t>* v, std::string_view what);

  size_t remaining() const { return in_.size() - pos_; }
  bool empty() const { return remaining() == 0; }

  // Records an error (unless one is already recorded) and returns false.
  bool Fail(ReasonCode reason, std::string message);
  bool Fail(DecodeError error);
  const DecodeError& error() const { return error_; }

 private:
  bool Need(size_t n, std::string_view what);

  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool failed_ = false;
  DecodeError error_;
};

// ---- Writing --------------------------------------------------------------------------------
// The encoders check lengths before calling these.

void AppendU16(uint16_t v, std::vector<uint8_t>* out);
void AppendU32(uint32_t v, std::vector<uint8_t>* out);
// REQUIRES: v <= kMaxRemainingLength.
void AppendVbi(uint32_t v, std::vector<uint8_t>* out);
// Two-byte length + bytes. REQUIRES: size <= 65535.
void AppendLengthPrefixed(std::span<const uint8_t> bytes, std::vector<uint8_t>* out);
void AppendLengthPrefixed(std::string_view s, std::vector<uint8_t>* out);

}  // namespace cistern::mqtt
