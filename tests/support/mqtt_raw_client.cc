#include "support/mqtt_raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cistern::testing {

uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

RawMqttClient::~RawMqttClient() { Close(); }

void RawMqttClient::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

bool RawMqttClient::Connect(uint16_t port) {
  Close();
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    Close();
    return false;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

bool RawMqttClient::SendBytes(const std::vector<uint8_t>& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool RawMqttClient::Send(const mqtt::Packet& p) {
  std::vector<uint8_t> out;
  mqtt::EncodeOptions o;
  o.version = version_;
  if (!mqtt::EncodeClientPacket(p, o, &out).ok()) return false;
  return SendBytes(out);
}

bool RawMqttClient::ReadExact(uint8_t* p, size_t n,
                              std::chrono::steady_clock::time_point deadline) {
  size_t got = 0;
  while (got < n) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    ssize_t r = recv(fd_, p + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

std::optional<MqttFrame> RawMqttClient::Read(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return std::nullopt;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  uint8_t b0;
  if (!ReadExact(&b0, 1, deadline)) return std::nullopt;
  uint32_t len = 0, mult = 1;
  for (int i = 0; i < 4; ++i) {
    uint8_t b;
    if (!ReadExact(&b, 1, deadline)) return std::nullopt;
    len += (b & 0x7f) * mult;
    mult *= 128;
    if (!(b & 0x80)) break;
  }
  MqttFrame f;
  f.type = b0 >> 4;
  f.flags = b0 & 0x0f;
  f.body.resize(len);
  if (len && !ReadExact(f.body.data(), len, deadline)) return std::nullopt;
  return f;
}

bool RawMqttClient::WaitClosed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  uint8_t buf[512];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, 50) <= 0) continue;
    ssize_t r = recv(fd_, buf, sizeof buf, 0);
    if (r <= 0) return true;
  }
  return false;
}

std::optional<MqttFrame> RawMqttClient::Handshake(const std::string& client_id, bool clean,
                                                  std::optional<std::string> password,
                                                  uint32_t session_expiry) {
  mqtt::Connect c;
  c.version = version_;
  c.client_id = client_id;
  c.clean_start = clean;
  c.keep_alive = 60;
  if (password) {
    c.username = "device";
    c.password = mqtt::Bytes(password->begin(), password->end());
  }
  if (version_ == mqtt::ProtocolVersion::kV5 && session_expiry) {
    c.properties.session_expiry_interval = session_expiry;
  }
  if (!Send(c)) return std::nullopt;
  return Read();
}

mqtt::Publish RawMqttClient::MakePublish(const std::string& topic, const std::string& payload,
                                         uint8_t qos, uint16_t packet_id, bool dup) {
  mqtt::Publish p;
  p.topic = topic;
  p.qos = qos;
  p.packet_id = qos ? packet_id : 0;
  p.dup = dup;
  p.payload.assign(payload.begin(), payload.end());
  return p;
}

}  // namespace cistern::testing
