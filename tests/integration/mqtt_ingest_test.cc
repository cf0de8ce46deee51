// MQTT ingest against the real binary (docs/mqtt.md): Debian's mosquitto_pub (3.1.1 and 5.0,
// QoS 0/1/2, TLS) and a raw-socket client for what a library hides: PUBACK order under
// pipelining, a QoS 2 PUBLISH sent again before PUBREL, sessions kept across reconnects and
// restarts, and kill -9 under load (every PUBACKed message must be in the file).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "support/cistern_process.h"
#include "support/http_client.h"
#include "support/mqtt_raw_client.h"
#include "support/spawn.h"
#include "support/sqlite_peek.h"
#include "support/temp_dir.h"

namespace cistern::testing {
namespace {

using mqtt::ProtocolVersion;

class MqttIngestTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags = {}) {
    if (port_ == 0) port_ = FreePort();
    if (std::find(flags.begin(), flags.end(), "--sink") == flags.end()) {
      flags.insert(flags.end(), {"--sink", "none"});
    }
    flags.insert(flags.end(), {"--mqtt-listen", "127.0.0.1:" + std::to_string(port_)});
    flags.insert(flags.end(), extra_.begin(), extra_.end());
    server_ = std::make_unique<CisternProcess>(dir_.path(), db(), flags);
    ASSERT_TRUE(server_->started()) << server_->Log();
  }
  void Stop() {
    if (!server_) return;
    EXPECT_EQ(server_->Stop(), 0) << server_->Log();
    server_.reset();
  }
  void TearDown() override { Stop(); }
  RunResult Pub(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p",
                                     std::to_string(port_)};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv, std::chrono::seconds(10));
  }
  std::string db() const { return dir_.File("events.db"); }
  int64_t Rows() { return CountEvents(db()); }
  std::string TokenFile(const std::string& content) {
    std::string path = dir_.File("tokens");
    std::ofstream(path) << content;
    return path;
  }

  TempDir dir_;
  uint16_t port_ = 0;
  std::vector<std::string> extra_;
  std::unique_ptr<CisternProcess> server_;
};

TEST_F(MqttIngestTest, MosquittoPubAtEveryQosAndBothVersionsIsStored) {
  Start();
  int n = 0;
  for (const char* version : {"mqttv311", "mqttv5"}) {
    for (const char* qos : {"0", "1", "2"}) {
      auto r = Pub({"-V", version, "-q", qos, "-t", std::string("devices/d-") + version + "/temp",
                    "-m", "21.5"});
      ASSERT_EQ(r.exit_code, 0) << r.output;
      ++n;
    }
  }
  auto r = Pub({"-q", "1", "-t", "devices/ignored/x", "-m",
                R"({"device_id":"pump-7","kind":"alarm","payload":{"level":3}})"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // QoS 0 has no ack: its commit may trail mosquitto_pub's exit a little.
  for (int i = 0; i < 100 && Rows() < n + 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Rows(), n + 1);
  EXPECT_EQ(QueryInt(db(),
                     "SELECT count(*) FROM events WHERE device_id = 'd-mqttv5' AND "
                     "kind = 'temp' AND payload_json = '21.5'"),
            3);
  EXPECT_EQ(QueryRows(db(), "SELECT kind, payload_json FROM events WHERE device_id = 'pump-7'"),
            (std::vector<std::vector<std::string>>{{"alarm", R"({"level":3})"}}));
  // The figures: 7 messages, 7 events, 7 answers (per version a PUBACK, a PUBREC and a
  // PUBCOMP, and the last PUBACK).
  HttpClient http("127.0.0.1", server_->port());
  auto metrics = http.Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("cistern_mqtt_messages_total 7\n"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("cistern_mqtt_events_total 7\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("cistern_mqtt_acks_total 7\n"), std::string::npos);
  auto stats = http.Get("/stats");
  EXPECT_NE(stats.body.find("\"mqtt\":{\"connections\":"), std::string::npos) << stats.body;
}

TEST_F(MqttIngestTest, AWrongOrMissingTokenIsRefusedAtConnectAndNothingIsStored) {
  Start({"--auth-token-file", TokenFile("dev-token-1\n")});
  for (std::optional<std::string> password :
       {std::optional<std::string>("nope"), std::optional<std::string>()}) {
    RawMqttClient c;
    ASSERT_TRUE(c.Connect(port_));
    mqtt::Connect connect;
    connect.version = ProtocolVersion::kV311;
    connect.client_id = "c1";
    if (password) {
      connect.username = "u";
      connect.password = mqtt::Bytes(password->begin(), password->end());
    }
    // CONNECT and a PUBLISH in one write: the PUBLISH must not be read, let alone stored.
    std::vector<uint8_t> bytes;
    mqtt::EncodeOptions o{ProtocolVersion::kV311};
    ASSERT_TRUE(mqtt::EncodeClientPacket(connect, o, &bytes).ok());
    ASSERT_TRUE(
        mqtt::EncodeClientPacket(RawMqttClient::MakePublish("devices/a/b", "1", 0, 0), o, &bytes)
            .ok());
    ASSERT_TRUE(c.SendBytes(bytes));
    auto ack = c.Read();
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->type, 2);
    EXPECT_EQ(ack->reason(), 5) << "3.1.1 return code 5: not authorized";
    EXPECT_TRUE(c.WaitClosed());
  }
  auto r = Pub({"-V", "mqttv5", "-q", "1", "-t", "devices/a/b", "-m", "1", "-u", "x", "-P", "bad"});
  EXPECT_NE(r.exit_code, 0) << r.output;
  r = Pub({"-q", "1", "-t", "devices/a/b", "-m", "1", "-u", "x", "-P", "dev-token-1"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Rows(), 1);
}

TEST_F(MqttIngestTest, NotJsonIs0x99ForV5AndADeadLetterFor311) {
  Start();
  RawMqttClient v5(ProtocolVersion::kV5);
  ASSERT_TRUE(v5.Connect(port_));
  auto ack = v5.Handshake("v5", true);
  ASSERT_TRUE(ack && ack->type == 2 && ack->reason() == 0);
  ASSERT_TRUE(v5.Send(RawMqttClient::MakePublish("devices/a/t", "not json", 1, 3)));
  auto puback = v5.Read();
  ASSERT_TRUE(puback);
  EXPECT_EQ(puback->type, 4);
  EXPECT_EQ(puback->packet_id(), 3);
  EXPECT_EQ(puback->reason(), 0x99);

  RawMqttClient v3;
  ASSERT_TRUE(v3.Connect(port_));
  ack = v3.Handshake("v311", true);
  ASSERT_TRUE(ack && ack->reason() == 0);
  ASSERT_TRUE(v3.Send(RawMqttClient::MakePublish("devices/a/t", "not json", 1, 4)));
  puback = v3.Read();
  ASSERT_TRUE(puback);
  EXPECT_EQ(puback->type, 4);
  EXPECT_EQ(puback->packet_id(), 4);
  EXPECT_EQ(Rows(), 0);
  EXPECT_EQ(QueryRows(db(), "SELECT source, origin, body FROM dead_letters"),
            (std::vector<std::vector<std::string>>{{"mqtt", "v311 devices/a/t", "not json"}}));
}

TEST_F(MqttIngestTest, PipelinedPubacksLeaveInArrivalOrder) {
  Start();
  RawMqttClient c;
  ASSERT_TRUE(c.Connect(port_));
  ASSERT_TRUE(c.Handshake("pipe", true));
  std::vector<uint8_t> bytes;
  mqtt::EncodeOptions o{ProtocolVersion::kV311};
  const int n = 500;
  for (int i = 1; i <= n; ++i) {
    std::string body = R"({"device_id":"p","kind":"seq","payload":)" + std::to_string(i) + "}";
    ASSERT_TRUE(mqtt::EncodeClientPacket(
                    RawMqttClient::MakePublish("devices/p/seq", body, i % 3 == 0 ? 0 : 1,
                                               static_cast<uint16_t>(i)),
                    o, &bytes)
                    .ok());
  }
  ASSERT_TRUE(c.SendBytes(bytes));
  std::vector<uint16_t> acked;
  while (acked.size() < static_cast<size_t>(n - n / 3)) {
    auto f = c.Read();
    ASSERT_TRUE(f) << "after " << acked.size() << " PUBACKs";
    ASSERT_EQ(f->type, 4);
    // Every PUBACK comes after its message is in the file.
    EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM events WHERE payload_json = '" +
                                 std::to_string(f->packet_id()) + "'"),
              1);
    acked.push_back(f->packet_id());
  }
  EXPECT_TRUE(std::is_sorted(acked.begin(), acked.end()));
  EXPECT_EQ(Rows(), n);
}

TEST_F(MqttIngestTest, Qos2IsStoredOnceAcrossResendsReconnectsAndRestarts) {
  Start();
  const std::string body = R"({"device_id":"q","kind":"once"})";
  {
    RawMqttClient c;
    ASSERT_TRUE(c.Connect(port_));
    auto ack = c.Handshake("q2", false);
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->body[0], 0) << "no stored session yet";
    ASSERT_TRUE(c.Send(RawMqttClient::MakePublish("devices/q/once", body, 2, 7)));
    auto rec = c.Read();
    ASSERT_TRUE(rec && rec->type == 5 && rec->packet_id() == 7);
    ASSERT_TRUE(c.Send(RawMqttClient::MakePublish("devices/q/once", body, 2, 7, true)));
    rec = c.Read();
    ASSERT_TRUE(rec && rec->type == 5 && rec->packet_id() == 7);
    EXPECT_EQ(Rows(), 1);
  }  // the connection drops before PUBREL
  {
    RawMqttClient c;
    ASSERT_TRUE(c.Connect(port_));
    auto ack = c.Handshake("q2", false);
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->body[0], 1) << "Session Present";
    ASSERT_TRUE(c.Send(RawMqttClient::MakePublish("devices/q/once", body, 2, 7, true)));
    auto rec = c.Read();
    ASSERT_TRUE(rec && rec->type == 5);
    EXPECT_EQ(Rows(), 1) << "sent again after a reconnect: still once";
    // A second message in flight (PUBREC, no PUBREL) across a restart.
    ASSERT_TRUE(c.Send(RawMqttClient::MakePublish("devices/q/once", body, 2, 8)));
    rec = c.Read();
    ASSERT_TRUE(rec && rec->packet_id() == 8);
    EXPECT_EQ(Rows(), 2);
  }
  Stop();
  Start();
  RawMqttClient c;
  ASSERT_TRUE(c.Connect(port_));
  auto ack = c.Handshake("q2", false);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->body[0], 1) << "the session survived the restart";
  for (uint16_t id : {7, 8}) {
    ASSERT_TRUE(c.Send(RawMqttClient::MakePublish("devices/q/once", body, 2, id, true)));
    auto rec = c.Read();
    ASSERT_TRUE(rec && rec->type == 5 && rec->packet_id() == id);
    mqtt::PublishResponse rel;
    rel.type = mqtt::PacketType::kPubRel;
    rel.packet_id = id;
    ASSERT_TRUE(c.Send(rel));
    auto comp = c.Read();
    ASSERT_TRUE(comp && comp->type == 7 && comp->packet_id() == id);
  }
  EXPECT_EQ(Rows(), 2);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM mqtt_qos2"), 0);
  // Released: id 7 is free again, a new message under it is stored.
  ASSERT_TRUE(c.Send(RawMqttClient::MakePublish("devices/q/once", body, 2, 7)));
  auto rec = c.Read();
  ASSERT_TRUE(rec && rec->type == 5);
  EXPECT_EQ(Rows(), 3);
}

TEST_F(MqttIngestTest, AClientThatNeverConnectsIsCutOffAndSubscribeIsRefused) {
  Start({"--header-timeout", "500ms"});
  RawMqttClient silent;
  ASSERT_TRUE(silent.Connect(port_));
  EXPECT_TRUE(silent.WaitClosed(std::chrono::seconds(3)));

  RawMqttClient c;
  ASSERT_TRUE(c.Connect(port_));
  ASSERT_TRUE(c.Handshake("sub", true));
  mqtt::Subscribe s;
  s.packet_id = 3;
  s.subscriptions.push_back({"devices/#", 1});
  ASSERT_TRUE(c.Send(s));
  auto suback = c.Read();
  ASSERT_TRUE(suback);
  EXPECT_EQ(suback->type, 9);
  EXPECT_EQ(suback->body.back(), 0x80) << "failure";
  // A malformed packet (reserved flags on PINGREQ) closes the connection.
  ASSERT_TRUE(c.SendBytes({0xC1, 0x00}));
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(MqttIngestTest, MqttsWithMosquittoPub) {
  std::string cert = dir_.File("cert.pem"), key = dir_.File("key.pem");
  auto gen = RunProgram(
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
       "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert},
      std::chrono::seconds(30));
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  uint16_t tls_port = FreePort();
  Start({"--tls-cert", cert, "--tls-key", key, "--mqtts-listen",
         "127.0.0.1:" + std::to_string(tls_port)});
  auto r = RunProgram({"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(tls_port),
                       "--cafile", cert, "-q", "1", "-t", "devices/tls-1/temp", "-m", "3"},
                      std::chrono::seconds(10));
  ASSERT_EQ(r.exit_code, 0) << r.output << server_->Log();
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM events WHERE device_id = 'tls-1'"), 1);
}

// At --max-backlog the session stops acknowledging and reading, and never sends a negative
// ack; as the uploader drains the buffer every message is stored and acknowledged in order.
TEST_F(MqttIngestTest, BackpressureAtMaxBacklogDelaysAcksButLosesNothing) {
  Start({"--max-backlog", "10", "--sink", "log", "--upload-batch", "5", "--upload-interval",
         "200ms"});
  RawMqttClient c(ProtocolVersion::kV5);
  ASSERT_TRUE(c.Connect(port_));
  auto ack = c.Handshake("bp", true);
  ASSERT_TRUE(ack && ack->reason() == 0);
  std::vector<uint8_t> bytes;
  mqtt::EncodeOptions o{ProtocolVersion::kV5};
  const int n = 40;
  for (int i = 1; i <= n; ++i) {
    ASSERT_TRUE(
        mqtt::EncodeClientPacket(RawMqttClient::MakePublish("devices/bp/seq", std::to_string(i), 1,
                                                            static_cast<uint16_t>(i)),
                                 o, &bytes)
            .ok());
  }
  ASSERT_TRUE(c.SendBytes(bytes));
  for (int i = 1; i <= n; ++i) {
    auto f = c.Read(std::chrono::seconds(20));
    ASSERT_TRUE(f) << "PUBACK " << i << " never came";
    EXPECT_EQ(f->type, 4);
    EXPECT_EQ(f->packet_id(), i);
    EXPECT_EQ(f->reason(), 0) << "no negative ack for backpressure";
  }
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM events WHERE device_id = 'bp'"), n);
  HttpClient http("127.0.0.1", server_->port());
  auto stats = http.Get("/stats");
  EXPECT_EQ(stats.body.find("\"store_retries\":0,"), std::string::npos)
      << "the store refused some appends, which were retried: " << stats.body;
}

TEST_F(MqttIngestTest, AnOversizedPacketIsRefusedAndClosesTheConnection) {
  Start({"--max-body-bytes", "1KiB"});
  RawMqttClient c(ProtocolVersion::kV5);
  ASSERT_TRUE(c.Connect(port_));
  auto ack = c.Handshake("big", true);
  ASSERT_TRUE(ack && ack->reason() == 0);
  ASSERT_TRUE(c.Send(RawMqttClient::MakePublish("devices/big/t", std::string(2000, '1'), 1, 1)));
  auto f = c.Read();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->type, 14) << "DISCONNECT";
  ASSERT_FALSE(f->body.empty());
  EXPECT_EQ(f->body[0], 0x95) << "Packet too large";
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(Rows(), 0);
}

TEST_F(MqttIngestTest, AThousandIdleConnectionsDoNotKeepANewPublisherOut) {
  Start({"--max-connections", "1001"});
  std::vector<std::unique_ptr<RawMqttClient>> idle;
  for (int i = 0; i < 1000; ++i) {
    idle.push_back(std::make_unique<RawMqttClient>());
    ASSERT_TRUE(idle.back()->Connect(port_)) << i;
    auto ack = idle.back()->Handshake("idle-" + std::to_string(i), true);
    ASSERT_TRUE(ack && ack->reason() == 0) << i;
  }
  auto r = Pub({"-q", "1", "-t", "devices/late/t", "-m", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Rows(), 1);
}

TEST_F(MqttIngestTest, LoadgenQos2IsExactlyOnceInTheFile) {
  Start();
  auto r = RunProgram(
      {CISTERN_LOADGEN, "--mqtt", "mqtt://127.0.0.1:" + std::to_string(port_), "--workers", "8",
       "--mqtt-inflight", "10", "--mqtt-qos", "2", "--duration", "1s", "--verify-db", db()},
      std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("OK: every acknowledged message"), std::string::npos) << r.output;
  EXPECT_EQ(QueryInt(db(),
                     "SELECT count(*) FROM (SELECT device_id, json_extract(payload_json, "
                     "'$.seq') s FROM events GROUP BY 1, 2 HAVING count(*) > 1)"),
            0)
      << "no message stored twice";
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM mqtt_qos2"), 0) << "every receipt released";
}

// A device going offline is telemetry too: its Will is stored when the connection is lost
// or its keep-alive runs out (1.5 x Keep Alive), not after a DISCONNECT.
TEST_F(MqttIngestTest, WillsAreStoredWhenTheConnectionIsLostNotAfterDisconnect) {
  Start();
  auto connect = [&](RawMqttClient& c, const std::string& id, uint16_t keep_alive) {
    mqtt::Connect p;
    p.version = ProtocolVersion::kV311;
    p.client_id = id;
    p.keep_alive = keep_alive;
    mqtt::Will will;
    will.topic = "devices/" + id + "/status";
    will.payload = mqtt::Bytes{'"', 'o', 'f', 'f', '"'};
    will.qos = 1;
    p.will = will;
    ASSERT_TRUE(c.Connect(port_));
    ASSERT_TRUE(c.Send(p));
    auto ack = c.Read();
    ASSERT_TRUE(ack && ack->type == 2 && ack->reason() == 0);
  };
  RawMqttClient polite, lost, silent;
  connect(polite, "polite", 60);
  connect(lost, "lost", 60);
  connect(silent, "silent", 1);
  ASSERT_TRUE(polite.Send(mqtt::Disconnect{}));
  polite.Close();
  lost.Close();  // no DISCONNECT
  EXPECT_TRUE(silent.WaitClosed(std::chrono::seconds(4))) << "keep-alive 1 s: cut at 1.5 s";
  for (int i = 0; i < 100 && Rows() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(QueryRows(db(), "SELECT device_id, kind, payload_json FROM events ORDER BY 1"),
            (std::vector<std::vector<std::string>>{{"lost", "status", "\"off\""},
                                                   {"silent", "status", "\"off\""}}));
}

// kill -9 at random points under pipelined QoS 1: every PUBACKed message is in the file.
TEST_F(MqttIngestTest, KillNineNeverLosesAnAcknowledgedMessage) {
  std::mt19937 rng(std::random_device{}());
  int64_t seq = 0;
  std::set<int64_t> acked;
  for (int round = 0; round < 4; ++round) {
    Start();
    RawMqttClient c;
    ASSERT_TRUE(c.Connect(port_));
    ASSERT_TRUE(c.Handshake("k9-" + std::to_string(round), true));
    std::map<uint16_t, int64_t> inflight;  // packet id -> seq
    uint16_t next_id = 1;
    auto kill_at = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(std::uniform_int_distribution<int>(100, 600)(rng));
    std::thread killer([&] {
      std::this_thread::sleep_until(kill_at);
      server_->Kill9();
    });
    bool alive = true;
    while (alive) {
      while (inflight.size() < 32) {
        ++seq;
        std::string body =
            R"({"device_id":"k9","kind":"seq","payload":)" + std::to_string(seq) + "}";
        if (!c.Send(RawMqttClient::MakePublish("devices/k9/seq", body, 1, next_id))) {
          alive = false;
          break;
        }
        inflight[next_id] = seq;
        next_id = next_id == 65535 ? 1 : next_id + 1;
      }
      auto f = alive ? c.Read(std::chrono::seconds(2)) : std::nullopt;
      if (!f) break;
      auto it = inflight.find(f->packet_id());
      if (f->type != 4 || it == inflight.end()) {  // no ASSERT: the killer thread must be joined
        ADD_FAILURE() << "unexpected packet type " << int(f->type) << " id " << f->packet_id();
        break;
      }
      acked.insert(it->second);
      inflight.erase(it);
    }
    killer.join();
    server_.reset();
  }
  ASSERT_GT(acked.size(), 0u);
  Start();  // recovery
  auto rows = QueryRows(db(), "SELECT payload_json FROM events WHERE device_id = 'k9'");
  std::set<int64_t> stored;
  for (const auto& r : rows) stored.insert(std::stoll(r[0]));
  size_t lost = 0;
  for (int64_t s : acked) lost += stored.count(s) ? 0 : 1;
  EXPECT_EQ(lost, 0u) << "of " << acked.size() << " acknowledged";
  RecordProperty("acknowledged", static_cast<int>(acked.size()));
}

}  // namespace
}  // namespace cistern::testing
