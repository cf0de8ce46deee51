#include "ingest/mqtt/wire.h"

#include <utility>

namespace cistern::mqtt {

VbiResult DecodeVariableByteInteger(std::span<const uint8_t> in) {
  VbiResult r;
  uint32_t value = 0;
  uint32_t multiplier = 1;
  for (size_t i = 0; i < 4; ++i) {
    if (i >= in.size()) {
      r.status = VbiStatus::kNeedMore;
      r.length = i;
      // i continuation bytes seen: a minimal encoding adds at least 1 * 128^i.
      r.lower_bound = i == 0 ? 0 : value + multiplier;
      return r;
    }
    uint8_t byte = in[i];
    value += static_cast<uint32_t>(byte & 0x7F) * multiplier;
    if ((byte & 0x80) == 0) {
      if (i > 0 && byte == 0) {
        r.status = VbiStatus::kMalformed;  // overlong: fewer bytes would do (MQTT-1.5.5-1)
        return r;
      }
      r.status = VbiStatus::kOk;
      r.value = value;
      r.length = i + 1;
      return r;
    }
    multiplier *= 128;
  }
  r.status = VbiStatus::kMalformed;  // the fourth byte had the continuation bit set
  return r;
}

size_t VariableByteIntegerSize(uint32_t value) {
  if (value < 128) return 1;
  if (value < 16'384) return 2;
  if (value < 2'097'152) return 3;
  return 4;
}

bool IsWellFormedUtf8(std::span<const uint8_t> s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    uint8_t b = s[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    uint32_t min;
    if ((b & 0xE0) == 0xC0) {
      len = 2, cp = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3, cp = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4, cp = b & 0x07, min = 0x10000;
    } else {
      return false;  // a continuation byte where a lead byte belongs, or 0xF8..0xFF
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      uint8_t c = s[i + k];
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (cp < min) return false;                      // overlong
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;  // surrogate
    if (cp > 0x10FFFF) return false;
    i += len;
  }
  return true;
}

bool IsValidMqttString(std::string_view s) {
  if (s.find('\0') != std::string_view::npos) return false;  // U+0000 (MQTT-1.5.4-2)
  return IsWellFormedUtf8(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

bool HasWildcard(std::string_view topic) {
  return topic.find_first_of("+#") != std::string_view::npos;
}

bool Reader::Fail(ReasonCode reason, std::string message) {
  if (!failed_) {
    failed_ = true;
    error_.reason = reason;
    error_.message = std::move(message);
  }
  return false;
}

bool Reader::Fail(DecodeError error) {
  if (!failed_) {
    failed_ = true;
    error_ = std::move(error);
  }
  return false;
}

bool Reader::Need(size_t n, std::string_view what) {
  if (remaining() >= n) return true;
  return Fail(ReasonCode::kMalformedPacket,
              std::string(what) + " runs past the end of the packet (Remaining Length)");
}

bool Reader::ReadByte(uint8_t* v, std::string_view what) {
  if (!Need(1, what)) return false;
  *v = in_[pos_++];
  return true;
}

bool Reader::ReadU16(uint16_t* v, std::string_view what) {
  if (!Need(2, what)) return false;
  *v = static_cast<uint16_t>((in_[pos_] << 8) | in_[pos_ + 1]);
  pos_ += 2;
  return true;
}

bool Reader::ReadU32(uint32_t* v, std::string_view what) {
  if (!Need(4, what)) return false;
  *v = (static_cast<uint32_t>(in_[pos_]) << 24) | (static_cast<uint32_t>(in_[pos_ + 1]) << 16) |
       (static_cast<uint32_t>(in_[pos_ + 2]) << 8) | static_cast<uint32_t>(in_[pos_ + 3]);
  pos_ += 4;
  return true;
}

bool Reader::ReadVbi(uint32_t* v, std::string_view what) {
  VbiResult r = DecodeVariableByteInteger(in_.subspan(pos_));
  if (r.status == VbiStatus::kNeedMore) return Need(remaining() + 1, what);
  if (r.status == VbiStatus::kMalformed) {
    return Fail(ReasonCode::kMalformedPacket,
                std::string(what) + ": not a valid Variable Byte Integer (1.5.5)");
  }
  *v = r.value;
  pos_ += r.length;
  return true;
}

bool Reader::ReadSpan(size_t n, std::span<const uint8_t>* v, std::string_view what) {
  if (!Need(n, what)) return false;
  *v = in_.subspan(pos_, n);
  pos_ += n;
  return true;
}

bool Reader::ReadString(std::string* v, std::string_view what) {
  uint16_t len;
  std::span<const uint8_t> bytes;
  if (!ReadU16(&len, what) || !ReadSpan(len, &bytes, what)) return false;
  v->assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (!IsValidMqttString(*v)) {
    return Fail(ReasonCode::kMalformedPacket,
                std::string(what) + " is not valid UTF-8 or contains U+0000 (1.5.4)");
  }
  return true;
}

bool Reader::ReadBinary(Bytes* v, std::string_view what) {
  uint16_t len;
  std::span<const uint8_t> bytes;
  if (!ReadU16(&len, what) || !ReadSpan(len, &bytes, what)) return false;
  v->assign(bytes.begin(), bytes.end());
  return true;
}

void Reader::ReadRest(Bytes* v) {
  v->assign(in_.begin() + static_cast<std::ptrdiff_t>(pos_), in_.end());
  pos_ = in_.size();
}

void AppendU16(uint16_t v, std::vector<uint8_t>* out) {
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v));
}

void AppendU32(uint32_t v, std::vector<uint8_t>* out) {
  out->push_back(static_cast<uint8_t>(v >> 24));
  out->push_back(static_cast<uint8_t>(v >> 16));
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v));
}

void AppendVbi(uint32_t v, std::vector<uint8_t>* out) {
  do {
    uint8_t byte = v % 128;
    v /= 128;
    if (v > 0) byte |= 0x80;
    out->push_back(byte);
  } while (v > 0);
}

void AppendLengthPrefixed(std::span<const uint8_t> bytes, std::vector<uint8_t>* out) {
  AppendU16(static_cast<uint16_t>(bytes.size()), out);
  out->insert(out->end(), bytes.begin(), bytes.end());
}

void AppendLengthPrefixed(std::string_view s, std::vector<uint8_t>* out) {
  AppendLengthPrefixed(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()), out);
}

}  // namespace cistern::mqtt
