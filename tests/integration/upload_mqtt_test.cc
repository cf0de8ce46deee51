// The collector with --sink mqtt against a real mosquitto: a subscriber receives every event.
#include <simdjson.h>

#include <set>

#include "support/mosquitto_broker.h"
#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

class UploadMqttTest : public ServerTest {};

TEST_F(UploadMqttTest, ASubscriberReceivesEveryEvent) {
  MosquittoBroker broker;
  ASSERT_TRUE(broker.started()) << broker.Log();
  MqttTestSubscriber sub(broker.port(), "cistern/#");
  ASSERT_TRUE(sub.WaitSubscribed());
  Start({"--sink", "mqtt", "--mqtt-url", broker.url(), "--upload-interval", "100ms"});
  std::set<int64_t> acked;
  for (int i = 0; i < 40; ++i) {
    std::string batch = "[";
    for (int k = 0; k < 25; ++k) {
      batch += std::string(k ? "," : "") + R"({"device_id":"dev-)" + std::to_string(k % 5) +
               R"(","kind":")" + (k % 17 ? "telemetry" : "error") + R"(","payload":{"k":)" +
               std::to_string(k) + "}}";
    }
    auto r = client_->Post("/events", batch + "]");
    ASSERT_EQ(r.status, 200) << r.body;
    for (int64_t id : ParseIds(r.body)) acked.insert(id);
  }
  ASSERT_TRUE(sub.WaitForCount(acked.size(), std::chrono::seconds(20)))
      << "received " << sub.Count() << " of " << acked.size();
  std::set<int64_t> received;
  simdjson::dom::parser parser;
  for (const auto& m : sub.Messages()) {
    simdjson::padded_string body(m.payload);
    simdjson::dom::element e;
    ASSERT_FALSE(parser.parse(body).get(e)) << m.payload;
    received.insert(int64_t(e["id"]));
    std::string_view device = e["device_id"];
    std::string_view kind = e["kind"];
    EXPECT_EQ(m.topic, "cistern/" + std::string(device) + "/" + std::string(kind));
  }
  EXPECT_EQ(received, acked);
  auto stats = client_->Get("/stats");
  EXPECT_EQ(JsonString(stats.body, "/uploader/sink"), "mqtt");
}

}  // namespace
}  // namespace cistern::testing
