// RawMqttClient: a blocking MQTT client on a plain TCP socket for tests that need control over
// every packet (pipelining, packet ids sent again, no PUBREL, abrupt close). Packets are built
// with the codec's EncodeClientPacket; server packets are read as raw frames.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ingest/mqtt/encoder.h"

namespace cistern::testing {

struct MqttFrame {
  uint8_t type = 0;   // high nibble of the first byte (2 = CONNACK, 4 = PUBACK, ...)
  uint8_t flags = 0;  // low nibble
  std::vector<uint8_t> body;
  uint16_t packet_id() const { return body.size() >= 2 ? (body[0] << 8) | body[1] : 0; }
  // PUBACK/PUBREC/PUBCOMP 5.0 reason (0 when omitted); CONNACK: the return/reason code.
  uint8_t reason() const {
    if (type == 2) return body.size() >= 2 ? body[1] : 0xff;
    return body.size() >= 3 ? body[2] : 0;
  }
};

// A free loopback TCP port (bound, read, closed: a tiny race, fine for tests).
uint16_t FreePort();

class RawMqttClient {
 public:
  explicit RawMqttClient(mqtt::ProtocolVersion v = mqtt::ProtocolVersion::kV311) : version_(v) {}
  ~RawMqttClient();
  bool Connect(uint16_t port);  // TCP only
  bool Send(const mqtt::Packet& p);
  bool SendBytes(const std::vector<uint8_t>& bytes);
  // The next frame from the server; nullopt on timeout or when the connection closed.
  std::optional<MqttFrame> Read(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True when the server closed the connection within `timeout` (frames before are skipped).
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void Close();

  // CONNECT (client id, clean, password) then the CONNACK frame.
  std::optional<MqttFrame> Handshake(const std::string& client_id, bool clean,
                                     std::optional<std::string> password = std::nullopt,
                                     uint32_t session_expiry = 0);
  static mqtt::Publish MakePublish(const std::string& topic, const std::string& payload,
                                   uint8_t qos, uint16_t packet_id, bool dup = false);

 private:
  bool ReadExact(uint8_t* p, size_t n, std::chrono::steady_clock::time_point deadline);
  mqtt::ProtocolVersion version_;
  int fd_ = -1;
};

}  // namespace cistern::testing
