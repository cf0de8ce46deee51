// MqttSink against a real mosquitto broker started by the test on a free loopback port.
#include "sinks/mqtt/mqtt_sink.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>

#include "support/mosquitto_broker.h"
#include "support/upload_batches.h"

namespace cistern {
namespace {

using testing::MosquittoBroker;
using testing::MqttTestSubscriber;
using Clock = std::chrono::steady_clock;
using Outcome = SendResult::Outcome;
using std::chrono::milliseconds;

UploadBatch MakeBatch(int64_t first_id, int n, const std::string& node_id = "node-7f3a") {
  return testing::MakeUploadBatch(first_id, n, node_id);
}

std::unique_ptr<Sink> MakeSink(const std::string& url, milliseconds timeout = milliseconds(5000),
                               const std::string& topic = "cistern/<device_id>/<kind>") {
  MqttOptions o;
  o.url = url;
  o.timeout = timeout;
  o.topic = topic;
  auto sink = MakeMqttSink(o);
  EXPECT_TRUE(sink.ok()) << sink.status().message();
  return sink.ok() ? std::move(*sink) : nullptr;
}

int64_t IdOf(const std::string& json) {
  simdjson::dom::parser parser;
  int64_t id = -1;
  if (parser.parse(json)["id"].get(id) != simdjson::SUCCESS) return -1;
  return id;
}

class MqttSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.started()) << broker_.Log();
    sub_ = std::make_unique<MqttTestSubscriber>(broker_.port(), "cistern/#");
    ASSERT_TRUE(sub_->WaitSubscribed()) << broker_.Log();
  }

  MosquittoBroker broker_;
  std::unique_ptr<MqttTestSubscriber> sub_;
};

TEST(MqttUrlTest, ParsesHostAndPort) {
  auto a = ParseMqttUrl("mqtt://127.0.0.1:1884");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 1884);
  a = ParseMqttUrl("tcp://broker.local/");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "broker.local");
  EXPECT_EQ(a->port, 1883);
  a = ParseMqttUrl("mqtt://[::1]:1999");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 1999);
  for (const char* bad : {"", "127.0.0.1:1883", "http://h:1", "mqtts://h:8883", "mqtt://",
                          "mqtt://:1883", "mqtt://h:", "mqtt://h:0", "mqtt://h:70000",
                          "mqtt://h:12x", "mqtt://u:p@h:1", "mqtt://h:1/topic", "mqtt://[::1"}) {
    auto r = ParseMqttUrl(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad;
    }
  }
}

TEST(MqttOptionsTest, RejectsBadOptionsWithoutTouchingTheNetwork) {
  MqttOptions o;
  EXPECT_TRUE(MakeMqttSink(o).ok());  // defaults are valid, broker or not
  for (const char* topic : {"", "cistern/+/<kind>", "cistern/#", "<device_id>/#"}) {
    o = MqttOptions{};
    o.topic = topic;
    EXPECT_FALSE(MakeMqttSink(o).ok()) << topic;
  }
  o = MqttOptions{};
  o.qos = 0;
  EXPECT_FALSE(MakeMqttSink(o).ok());
  o.qos = 3;
  EXPECT_FALSE(MakeMqttSink(o).ok());
  o = MqttOptions{};
  o.timeout = milliseconds(0);
  EXPECT_FALSE(MakeMqttSink(o).ok());
  o = MqttOptions{};
  o.url = "http://127.0.0.1:1883";
  EXPECT_FALSE(MakeMqttSink(o).ok());
}

TEST_F(MqttSinkTest, SubscriberReceivesEveryEventOnItsTopicWithAllFields) {
  auto sink = MakeSink(broker_.url());
  ASSERT_TRUE(sink);
  EXPECT_EQ(sink->name(), "mqtt");
  UploadBatch batch = MakeBatch(101, 30);
  SendResult r = sink->Send(batch);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(sub_->WaitForCount(batch.size(), milliseconds(10000))) << sub_->Count();

  std::map<int64_t, size_t> index_of;
  for (size_t i = 0; i < batch.size(); ++i) index_of[batch.ids[i]] = i;
  std::set<int64_t> seen;
  simdjson::dom::parser parser;
  for (const auto& m : sub_->Messages()) {
    simdjson::dom::object obj;
    ASSERT_EQ(parser.parse(m.payload).get(obj), simdjson::SUCCESS) << m.payload;
    std::set<std::string> keys;
    for (auto field : obj) keys.insert(std::string(field.key));
    EXPECT_EQ(keys, (std::set<std::string>{"id", "node_id", "device_id", "kind", "payload", "ts"}));
    int64_t id = obj["id"].get_int64().value();
    ASSERT_TRUE(index_of.count(id)) << id;
    size_t i = index_of[id];
    EventView e = batch.events[i];
    seen.insert(id);
    EXPECT_EQ(m.topic, "cistern/" + std::string(e.device_id) + "/" + std::string(e.kind));
    EXPECT_EQ(obj["node_id"].get_string().value(), "node-7f3a");
    EXPECT_EQ(obj["device_id"].get_string().value(), e.device_id);
    EXPECT_EQ(obj["kind"].get_string().value(), e.kind);
    EXPECT_EQ(obj["ts"].get_int64().value(), e.ts);
    if (e.has_payload) {
      EXPECT_EQ(simdjson::minify(obj["payload"].value()), e.payload_json);
    } else {
      EXPECT_TRUE(obj["payload"].is_null());
    }
  }
  EXPECT_EQ(seen.size(), batch.size());
  // Default client id, clean session ("c1"), as the broker saw it.
  EXPECT_NE(broker_.Log().find("as cistern-node-7f3a (p2, c1"), std::string::npos) << broker_.Log();
}

TEST_F(MqttSinkTest, ManyBatchesInARowAllArrive) {
  auto sink = MakeSink(broker_.url());
  ASSERT_TRUE(sink);
  constexpr int kBatches = 20, kPerBatch = 500;
  auto start = Clock::now();
  for (int b = 0; b < kBatches; ++b) {
    SendResult r = sink->Send(MakeBatch(1 + b * kPerBatch, kPerBatch));
    ASSERT_TRUE(r.ok()) << "batch " << b << ": " << r.error;
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("[ perf ] %d events acknowledged by mosquitto in %.3f s (%.0f events/s)\n",
              kBatches * kPerBatch, secs, kBatches * kPerBatch / secs);
  ASSERT_TRUE(sub_->WaitForCount(kBatches * kPerBatch, milliseconds(15000))) << sub_->Count();
  std::set<int64_t> ids;
  for (const auto& m : sub_->Messages()) ids.insert(IdOf(m.payload));
  EXPECT_EQ(ids.size(), static_cast<size_t>(kBatches * kPerBatch));
  EXPECT_EQ(*ids.begin(), 1);
  EXPECT_EQ(*ids.rbegin(), kBatches * kPerBatch);
}

TEST_F(MqttSinkTest, BatchLargerThanTheMessageIdSpaceIsAcknowledged) {
  // 16-bit message ids: 70,000 publishes in one Send must not reuse an id still awaiting its
  // PUBACK (a reused id would make the broker drop or confuse a message). Every event must
  // arrive, once each.
  MqttTestSubscriber bulk(broker_.port(), "bulk/#");
  ASSERT_TRUE(bulk.WaitSubscribed());
  auto sink = MakeSink(broker_.url(), milliseconds(20000), "bulk/<kind>");
  ASSERT_TRUE(sink);
  constexpr int kEvents = 70000;
  SendResult r = sink->Send(MakeBatch(1, kEvents));
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(bulk.WaitForCount(kEvents, milliseconds(30000))) << bulk.Count();
  std::set<int64_t> ids;
  for (const auto& m : bulk.Messages()) ids.insert(IdOf(m.payload));
  EXPECT_EQ(ids.size(), static_cast<size_t>(kEvents));
  EXPECT_EQ(*ids.begin(), 1);
  EXPECT_EQ(*ids.rbegin(), kEvents);
}

TEST_F(MqttSinkTest, BrokerOutageGivesRetryWithinTheTimeoutThenRecovers) {
  auto sink = MakeSink(broker_.url(), milliseconds(500));
  ASSERT_TRUE(sink);
  ASSERT_TRUE(sink->Send(MakeBatch(1, 10)).ok());

  broker_.Stop();
  for (int attempt = 0; attempt < 2; ++attempt) {  // connected-then-lost, then never connects
    auto start = Clock::now();
    SendResult r = sink->Send(MakeBatch(11, 10));
    auto took = Clock::now() - start;
    EXPECT_EQ(r.outcome, Outcome::kRetry) << r.error;
    EXPECT_EQ(r.error.rfind("mqtt: ", 0), 0u) << r.error;
    EXPECT_LT(took, milliseconds(1500)) << r.error;
  }

  ASSERT_TRUE(broker_.Start()) << broker_.Log();
  MqttTestSubscriber after(broker_.port(), "cistern/#");
  ASSERT_TRUE(after.WaitSubscribed());
  SendResult r = sink->Send(MakeBatch(11, 10));
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(after.WaitForCount(10, milliseconds(5000))) << after.Count();
}

TEST(MqttSinkOutageTest, StartsWhileTheBrokerIsDown) {
  MosquittoBroker broker;
  ASSERT_TRUE(broker.started()) << broker.Log();
  broker.Stop();
  auto sink = MakeSink(broker.url(), milliseconds(500));  // must not need the broker
  ASSERT_TRUE(sink);
  SendResult r = sink->Send(MakeBatch(1, 5));
  EXPECT_EQ(r.outcome, Outcome::kRetry);
  EXPECT_NE(r.error.find("cannot connect to 127.0.0.1:" + std::to_string(broker.port())),
            std::string::npos)
      << r.error;
  ASSERT_TRUE(broker.Start()) << broker.Log();
  r = sink->Send(MakeBatch(1, 5));
  EXPECT_TRUE(r.ok()) << r.error;
}

TEST_F(MqttSinkTest, MissingPubacksGiveRetryNamingHowMany) {
  auto sink = MakeSink(broker_.url(), milliseconds(500));
  ASSERT_TRUE(sink);
  ASSERT_TRUE(sink->Send(MakeBatch(1, 5)).ok());  // connected
  ASSERT_EQ(kill(broker_.pid(), SIGSTOP), 0);     // the broker stops answering
  auto start = Clock::now();
  SendResult r = sink->Send(MakeBatch(6, 50));
  auto took = Clock::now() - start;
  kill(broker_.pid(), SIGCONT);
  EXPECT_EQ(r.outcome, Outcome::kRetry);
  EXPECT_EQ(r.error, "mqtt: 50 of 50 publishes not acknowledged within 500ms");
  EXPECT_GE(took, milliseconds(450));
  EXPECT_LT(took, milliseconds(1500));
  r = sink->Send(MakeBatch(6, 50));  // a fresh connection once the broker is back
  EXPECT_TRUE(r.ok()) << r.error;
}

TEST(MqttSinkSilentPeerTest, NoConnackGivesRetryWithinTheTimeout) {
  // Accepts TCP (the kernel completes the handshake) but never speaks MQTT.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string url = "mqtt://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto sink = MakeSink(url, milliseconds(300));
  ASSERT_TRUE(sink);
  auto start = Clock::now();
  SendResult r = sink->Send(MakeBatch(1, 3));
  auto took = Clock::now() - start;
  close(fd);
  EXPECT_EQ(r.outcome, Outcome::kRetry);
  EXPECT_NE(r.error.find("no CONNACK"), std::string::npos) << r.error;
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(1500));
}

TEST_F(MqttSinkTest, TopicSpecialCharactersInDeviceIdAreReplaced) {
  auto sink = MakeSink(broker_.url());
  ASSERT_TRUE(sink);
  UploadBatch batch;
  batch.node_id = "node-7f3a";
  batch.ids = {1, 2, 3};
  batch.events.Add("plant/a+b#c", "temp", R"({"v":1})", true, 1);
  batch.events.Add("#", "a/b", "", false, 2);
  batch.events.Add("+", "+", "", false, 3);
  SendResult r = sink->Send(batch);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(sub_->WaitForCount(3, milliseconds(5000))) << sub_->Count();
  std::map<int64_t, std::string> topic_of;
  simdjson::dom::parser parser;
  for (const auto& m : sub_->Messages()) {
    std::string_view device;
    auto doc = parser.parse(m.payload);
    ASSERT_EQ(doc["device_id"].get(device), simdjson::SUCCESS);
    if (IdOf(m.payload) == 1) {
      EXPECT_EQ(device, "plant/a+b#c");  // the payload keeps the original
    }
    topic_of[IdOf(m.payload)] = m.topic;
  }
  EXPECT_EQ(topic_of[1], "cistern/plant_a_b_c/temp");
  EXPECT_EQ(topic_of[2], "cistern/_/a_b");
  EXPECT_EQ(topic_of[3], "cistern/_/_");
}

TEST_F(MqttSinkTest, CharactersMqttForbidsInTopicsAreReplaced) {
  auto sink = MakeSink(broker_.url());
  ASSERT_TRUE(sink);
  // Device ids the ingest accepts (it rejects ASCII controls only) but libmosquitto refuses
  // in a topic; each must still be delivered, not block the batch.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"caf\xC3\xA9", "cistern/caf\xC3\xA9/k"},  // ordinary UTF-8 stays
      {"a\xC2\x85"
       "b",
       "cistern/a_b/k"},                    // C1 control U+0085
      {"x\xEF\xBF\xBFy", "cistern/x_y/k"},  // noncharacter U+FFFF
      {"bad\xFFz", "cistern/bad_z/k"},      // not UTF-8 at all
      {"\xE2"
       "ab",
       "cistern/_ab/k"},  // truncated sequence
  };
  UploadBatch batch;
  batch.node_id = "node-7f3a";
  for (size_t i = 0; i < cases.size(); ++i) {
    batch.ids.push_back(static_cast<int64_t>(i + 1));
    batch.events.Add(cases[i].first, "k", "", false, 1);
  }
  SendResult r = sink->Send(batch);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(sub_->WaitForCount(cases.size(), milliseconds(5000))) << sub_->Count();
  // (Matched by topic: invalid UTF-8 never passes the ingest, and its JSON would not parse.)
  std::multiset<std::string> topics, expected;
  for (const auto& m : sub_->Messages()) topics.insert(m.topic);
  for (const auto& c : cases) expected.insert(c.second);
  EXPECT_EQ(topics, expected);
}

TEST_F(MqttSinkTest, EmptyTopicIsPermanentAndNothingIsSent) {
  MqttTestSubscriber all(broker_.port(), "#");
  ASSERT_TRUE(all.WaitSubscribed());
  auto sink = MakeSink(broker_.url(), milliseconds(5000), "<device_id>");
  ASSERT_TRUE(sink);
  UploadBatch batch;
  batch.node_id = "node-7f3a";
  batch.ids = {1, 2};
  batch.events.Add("cistern/ok", "k", "", false, 1);  // "cistern_ok": fine on its own
  batch.events.Add("", "k", "", false, 2);            // empty topic
  SendResult r = sink->Send(batch);
  EXPECT_EQ(r.outcome, Outcome::kPermanent) << r.error;
  EXPECT_NE(r.error.find("event 2"), std::string::npos) << r.error;
  EXPECT_FALSE(all.WaitForCount(1, milliseconds(300))) << all.Messages()[0].topic;
}

}  // namespace
}  // namespace cistern
