// Cross-check against a real client: Debian's mosquitto_pub (package mosquitto-clients)
// connects to a listener in this test (127.0.0.1, an ephemeral port), which answers with the
// codec's own encoders (CONNACK, PUBACK, PUBREC, PUBCOMP) and records every byte the client
// sends. The decoded CONNECT and PUBLISH must hold what the command line asked for, and
// mosquitto_pub must exit 0, which it does only once it has read our CONNACK and the
// acknowledgements its QoS needs. The child is killed by PID when the test ends, pass or fail.
//
// MQTT_CAPTURE_DIR=<dir> writes each client byte stream to <dir>/<case>.bin (how the fuzz seed
// corpus in fuzz/corpus/fuzz_mqtt_packet/ was made).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "ingest/mqtt/decoder.h"
#include "ingest/mqtt/encoder.h"
#include "support/spawn.h"
#include "support/temp_dir.h"
#include "tests/ingest/mqtt/test_bytes.h"

namespace cistern::mqtt {
namespace {

constexpr const char* kMosquittoPub = "/usr/bin/mosquitto_pub";
constexpr auto kDeadline = std::chrono::seconds(15);

// A listening socket on 127.0.0.1 only, closed on destruction.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(fd_, 1) != 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() {
    if (fd_ >= 0) close(fd_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  uint16_t port() const { return port_; }
  // The accepted connection's descriptor, or -1 after `timeout_ms`.
  int Accept(int timeout_ms) const {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return -1;
    return accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A child process, SIGKILLed and reaped by PID on destruction unless it was already reaped.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // The exit code (128 + signal if killed), or -1 if it is still running after `timeout_ms`.
  int Wait(int timeout_ms) {
    for (int waited = 0; pid_ > 0; waited += 10) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return cistern::testing::DecodeWaitStatus(status);
      }
      if (waited >= timeout_ms) return -1;
      usleep(10'000);
    }
    return -1;
  }

 private:
  pid_t pid_;
};

struct Capture {
  std::vector<uint8_t> client_bytes;  // everything the client sent, in order
  std::vector<Packet> packets;        // decoded, in order
  std::string error;                  // non-empty when the session went wrong
};

bool SendAll(int fd, const std::vector<uint8_t>& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// A minimal server session on `fd` built on the codec: decode what arrives, answer with our
// encoders, until DISCONNECT, EOF, an error or the deadline.
Capture Serve(int fd) {
  Capture c;
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  const DecoderOptions options;
  ProtocolVersion version = ProtocolVersion::kUnknown;
  std::vector<uint8_t> buffer;
  for (;;) {
    // Decode everything buffered.
    for (;;) {
      DecodeResult r = Decode(buffer, version, options);
      if (std::holds_alternative<NeedMore>(r)) break;
      if (const auto* e = std::get_if<DecodeError>(&r)) {
        c.error = "decode error: " + e->message;
        return c;
      }
      Decoded& d = std::get<Decoded>(r);
      buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(d.consumed));
      EncodeOptions eo;
      std::vector<uint8_t> reply;
      Status s;
      if (const auto* connect = std::get_if<Connect>(&d.packet)) {
        version = connect->version;
        eo.version = version;
        ConnAck ack;
        if (version == ProtocolVersion::kV5) ack.properties = AdvertisedProperties(options);
        s = Encode(ack, eo, &reply);
      } else {
        eo.version = version;
        if (const auto* p = std::get_if<Publish>(&d.packet); p && p->qos > 0) {
          PacketType t = p->qos == 1 ? PacketType::kPubAck : PacketType::kPubRec;
          s = Encode(PublishResponse{t, p->packet_id, ReasonCode::kSuccess, {}}, eo, &reply);
        } else if (const auto* rel = std::get_if<PublishResponse>(&d.packet);
                   rel && rel->type == PacketType::kPubRel) {
          s = Encode(
              PublishResponse{PacketType::kPubComp, rel->packet_id, ReasonCode::kSuccess, {}}, eo,
              &reply);
        } else if (std::holds_alternative<PingReq>(d.packet)) {
          s = Encode(PingResp{}, eo, &reply);
        }
      }
      const bool disconnect = std::holds_alternative<Disconnect>(d.packet);
      c.packets.push_back(std::move(d.packet));
      if (!s.ok()) {
        c.error = "encode: " + s.message();
        return c;
      }
      if (!reply.empty() && !SendAll(fd, reply)) {
        c.error = "send failed";
        return c;
      }
      if (disconnect) return c;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      c.error = "timed out";
      return c;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) != 1) continue;
    uint8_t chunk[4096];
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) {
      c.error = "connection closed before DISCONNECT";
      return c;
    }
    c.client_bytes.insert(c.client_bytes.end(), chunk, chunk + n);
    buffer.insert(buffer.end(), chunk, chunk + n);
  }
}

class MosquittoPubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kMosquittoPub, X_OK) != 0) {
      GTEST_SKIP() << kMosquittoPub << " missing: run scripts/install-deps (mosquitto-clients)";
    }
    ASSERT_NE(listener_.port(), 0) << "could not listen on 127.0.0.1";
  }

  // Runs mosquitto_pub with `args` against the listener and serves it.
  Capture Run(const std::string& name, std::vector<std::string> args) {
    std::vector<std::string> argv = {kMosquittoPub, "-h", "127.0.0.1", "-p",
                                     std::to_string(listener_.port())};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string log = dir_.File(name + ".log");
    Child child(cistern::testing::SpawnWithLog(argv, log));
    Capture c;
    int fd = listener_.Accept(10'000);
    if (fd < 0) {
      c.error = "mosquitto_pub did not connect; its log: " + cistern::testing::ReadFile(log);
      return c;
    }
    c = Serve(fd);
    const int exit_code = child.Wait(10'000);
    close(fd);
    EXPECT_EQ(exit_code, 0) << "mosquitto_pub log: " << cistern::testing::ReadFile(log);
    if (const char* capture_dir = std::getenv("MQTT_CAPTURE_DIR")) {
      std::ofstream(std::string(capture_dir) + "/" + name + ".bin", std::ios::binary)
          .write(reinterpret_cast<const char*>(c.client_bytes.data()),
                 static_cast<std::streamsize>(c.client_bytes.size()));
    }
    return c;
  }

  cistern::testing::TempDir dir_;
  Listener listener_;
};

// The packets of one mosquitto_pub run: CONNECT, PUBLISH, [PUBREL], DISCONNECT.
void ExpectFlow(const Capture& c, int qos) {
  ASSERT_TRUE(c.error.empty()) << c.error;
  const size_t n = qos == 2 ? 4 : 3;
  ASSERT_EQ(c.packets.size(), n);
  EXPECT_TRUE(std::holds_alternative<Connect>(c.packets[0]));
  ASSERT_TRUE(std::holds_alternative<Publish>(c.packets[1]));
  if (qos == 2) {
    const auto* rel = std::get_if<PublishResponse>(&c.packets[2]);
    ASSERT_NE(rel, nullptr);
    EXPECT_EQ(rel->type, PacketType::kPubRel);
    EXPECT_EQ(rel->packet_id, std::get<Publish>(c.packets[1]).packet_id);
  }
  EXPECT_TRUE(std::holds_alternative<Disconnect>(c.packets.back()));
}

TEST_F(MosquittoPubTest, V311ConnectWithCredentialsAndWill) {
  for (int qos : {0, 1, 2}) {
    SCOPED_TRACE(qos);
    Capture c = Run("v311_qos" + std::to_string(qos), {"-V",
                                                       "mqttv311",
                                                       "-i",
                                                       "cistern-311",
                                                       "-k",
                                                       "30",
                                                       "-u",
                                                       "alice",
                                                       "-P",
                                                       "s3cret",
                                                       "--will-topic",
                                                       "sensors/1/status",
                                                       "--will-payload",
                                                       "offline",
                                                       "--will-qos",
                                                       "1",
                                                       "--will-retain",
                                                       "-t",
                                                       "sensors/1/temp",
                                                       "-m",
                                                       "{\"temp_c\":21.5}",
                                                       "-q",
                                                       std::to_string(qos)});
    ExpectFlow(c, qos);
    if (::testing::Test::HasFatalFailure()) return;
    const Connect& con = std::get<Connect>(c.packets[0]);
    EXPECT_EQ(con.version, ProtocolVersion::kV311);
    EXPECT_EQ(con.client_id, "cistern-311");
    EXPECT_EQ(con.keep_alive, 30);
    EXPECT_TRUE(con.clean_start);
    EXPECT_EQ(con.username, "alice");
    EXPECT_EQ(con.password, testing::Raw("s3cret"));
    ASSERT_TRUE(con.will.has_value());
    EXPECT_EQ(con.will->topic, "sensors/1/status");
    EXPECT_EQ(con.will->payload, testing::Raw("offline"));
    EXPECT_EQ(con.will->qos, 1);
    EXPECT_TRUE(con.will->retain);
    const Publish& pub = std::get<Publish>(c.packets[1]);
    EXPECT_EQ(pub.topic, "sensors/1/temp");
    EXPECT_EQ(pub.payload, testing::Raw("{\"temp_c\":21.5}"));
    EXPECT_EQ(pub.qos, qos);
    EXPECT_EQ(pub.packet_id != 0, qos > 0);
    EXPECT_FALSE(pub.retain);
  }
}

TEST_F(MosquittoPubTest, V5PropertiesOnConnectWillAndPublish) {
  for (int qos : {0, 1, 2}) {
    SCOPED_TRACE(qos);
    Capture c = Run("v5_qos" + std::to_string(qos), {"-V",
                                                     "mqttv5",
                                                     "-i",
                                                     "cistern-5",
                                                     "-u",
                                                     "bob",
                                                     "-P",
                                                     "pw",
                                                     "-x",
                                                     "120",
                                                     "-D",
                                                     "connect",
                                                     "user-property",
                                                     "fw",
                                                     "1.2.3",
                                                     "-D",
                                                     "connect",
                                                     "receive-maximum",
                                                     "10",
                                                     "--will-topic",
                                                     "sensors/2/status",
                                                     "--will-payload",
                                                     "gone",
                                                     "--will-qos",
                                                     "2",
                                                     "-D",
                                                     "will",
                                                     "content-type",
                                                     "text/plain",
                                                     "-D",
                                                     "will",
                                                     "will-delay-interval",
                                                     "5",
                                                     "-D",
                                                     "publish",
                                                     "user-property",
                                                     "site",
                                                     "north",
                                                     "-D",
                                                     "publish",
                                                     "user-property",
                                                     "site",
                                                     "south",
                                                     "-D",
                                                     "publish",
                                                     "content-type",
                                                     "application/json",
                                                     "-D",
                                                     "publish",
                                                     "payload-format-indicator",
                                                     "1",
                                                     "-D",
                                                     "publish",
                                                     "message-expiry-interval",
                                                     "60",
                                                     "-D",
                                                     "publish",
                                                     "response-topic",
                                                     "reply/2",
                                                     "-D",
                                                     "publish",
                                                     "correlation-data",
                                                     "req-17",
                                                     "-t",
                                                     "sensors/2/temp",
                                                     "-m",
                                                     "{\"temp_c\":19}",
                                                     "-q",
                                                     std::to_string(qos)});
    ExpectFlow(c, qos);
    if (::testing::Test::HasFatalFailure()) return;
    const Connect& con = std::get<Connect>(c.packets[0]);
    EXPECT_EQ(con.version, ProtocolVersion::kV5);
    EXPECT_EQ(con.client_id, "cistern-5");
    EXPECT_EQ(con.username, "bob");
    EXPECT_EQ(con.password, testing::Raw("pw"));
    EXPECT_EQ(con.properties.session_expiry_interval, 120u);
    EXPECT_EQ(con.properties.receive_maximum, 10);
    EXPECT_EQ(con.properties.user_properties, (std::vector<UserProperty>{{"fw", "1.2.3"}}));
    ASSERT_TRUE(con.will.has_value());
    EXPECT_EQ(con.will->topic, "sensors/2/status");
    EXPECT_EQ(con.will->qos, 2);
    EXPECT_EQ(con.will->properties.content_type, "text/plain");
    EXPECT_EQ(con.will->properties.will_delay_interval, 5u);
    const Publish& pub = std::get<Publish>(c.packets[1]);
    EXPECT_EQ(pub.topic, "sensors/2/temp");
    EXPECT_EQ(pub.qos, qos);
    EXPECT_EQ(pub.payload, testing::Raw("{\"temp_c\":19}"));
    const Properties& p = pub.properties;
    EXPECT_EQ(p.user_properties, (std::vector<UserProperty>{{"site", "north"}, {"site", "south"}}));
    EXPECT_EQ(p.content_type, "application/json");
    EXPECT_EQ(p.payload_format_indicator, 1);
    EXPECT_EQ(p.message_expiry_interval, 60u);
    EXPECT_EQ(p.response_topic, "reply/2");
    EXPECT_EQ(p.correlation_data, testing::Raw("req-17"));
    EXPECT_EQ(CheckPayloadFormat(pub), ReasonCode::kSuccess);
  }
}

}  // namespace
}  // namespace cistern::mqtt
