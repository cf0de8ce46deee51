// Topic -> device and kind (--mqtt-listen-topic), and the MQTT payload rules (docs/mqtt.md).
#include "ingest/mqtt/topic_map.h"

#include <gtest/gtest.h>

#include "event/parse.h"

namespace cistern::mqtt {
namespace {

TEST(TopicMapTest, TheDefaultTemplateNamesDeviceAndKind) {
  auto map = TopicMap::Parse("devices/<device_id>/<kind>");
  ASSERT_TRUE(map.ok()) << map.status().message();
  auto f = map->Match("devices/dev-1/temp");
  EXPECT_EQ(f.device_id, "dev-1");
  EXPECT_EQ(f.kind, "temp");
  for (const char* miss : {"devices/dev-1", "devices/dev-1/temp/x", "device/dev-1/temp",
                           "devices//temp", "devices/dev-1/", "", "/devices/a/b"}) {
    auto m = map->Match(miss);
    EXPECT_TRUE(m.device_id.empty() && m.kind.empty()) << miss;
  }
}

TEST(TopicMapTest, PlaceholdersAnywhereAsWholeLevels) {
  auto map = TopicMap::Parse("<kind>/site-3/<device_id>");
  ASSERT_TRUE(map.ok());
  auto f = map->Match("alarm/site-3/pump");
  EXPECT_EQ(f.device_id, "pump");
  EXPECT_EQ(f.kind, "alarm");
  EXPECT_TRUE(map->Match("alarm/site-4/pump").device_id.empty());
}

TEST(TopicMapTest, BadTemplatesAreRefused) {
  for (const char* bad : {"", "devices/<device_id>-x/<kind>", "devices/<node_id>/<kind>",
                          "devices/+/<kind>", "devices/<device_id>/#", "<device_id>/<device_id>"}) {
    EXPECT_FALSE(TopicMap::Parse(bad).ok()) << bad;
  }
}

class MqttPayloadTest : public ::testing::Test {
 protected:
  Status Parse(std::string body, TopicFields topic = {"dev-t", "temp"}) {
    const size_t n = body.size();
    body.resize(n + simdjson::SIMDJSON_PADDING);
    return ParseMqttPayload(simdjson::padded_string_view(body.data(), n, body.size()), topic,
                            ParseLimits{}, 1000, parser_, &batch_, &not_json_);
  }
  simdjson::dom::parser parser_;
  EventBatch batch_;
  bool not_json_ = false;
};

TEST_F(MqttPayloadTest, AnEventObjectKeepsItsFieldsAndTakesTheKindFromTheTopic) {
  ASSERT_TRUE(Parse(R"({"device_id":"d1","kind":"k","payload":{"v":1},"ts":1748722000005})").ok());
  ASSERT_EQ(batch_.size(), 1u);
  EXPECT_EQ(batch_[0].device_id, "d1");
  EXPECT_EQ(batch_[0].kind, "k");
  EXPECT_EQ(batch_[0].payload_json, R"({"v":1})");
  EXPECT_EQ(batch_[0].ts, 1748722000005);
  ASSERT_TRUE(Parse(R"({"device_id":"d1","payload":2})").ok());
  EXPECT_EQ(batch_[0].kind, "temp");
}

TEST_F(MqttPayloadTest, AnyOtherJsonBecomesThePayload) {
  for (const char* body :
       {"21.5", R"("on")", R"({"v":21.5})", "[1,2]", R"([{"device_id":"a"},3])"}) {
    ASSERT_TRUE(Parse(body).ok()) << body;
    ASSERT_EQ(batch_.size(), 1u) << body;
    EXPECT_EQ(batch_[0].device_id, "dev-t");
    EXPECT_EQ(batch_[0].kind, "temp");
    EXPECT_EQ(batch_[0].ts, 1000);
  }
  ASSERT_TRUE(Parse(R"({"v": 21.5})").ok());
  EXPECT_EQ(batch_[0].payload_json, R"({"v":21.5})");
}

TEST_F(MqttPayloadTest, ArraysAndNdjsonAreAllOrNothing) {
  ASSERT_TRUE(Parse(R"([{"device_id":"a","kind":"k"},{"device_id":"b"}])").ok());
  EXPECT_EQ(batch_.size(), 2u);
  ASSERT_TRUE(Parse("{\"device_id\":\"a\"}\n\n{\"device_id\":\"b\",\"kind\":\"x\"}\n7\n").ok());
  EXPECT_EQ(batch_.size(), 3u);
  Status s = Parse(R"([{"device_id":"a"},{"device_id":""}])");
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(not_json_);
  EXPECT_TRUE(batch_.empty());
}

TEST_F(MqttPayloadTest, NotJsonIsSaidSo) {
  for (const char* body : {"\xff\xfe", "hello", "", "{\"device_id\":\"a\"}\nnope"}) {
    EXPECT_FALSE(Parse(body).ok()) << body;
    EXPECT_TRUE(not_json_) << body;
    EXPECT_TRUE(batch_.empty());
  }
}

TEST_F(MqttPayloadTest, WithoutTopicFieldsOnlyWholeEventsPass) {
  EXPECT_FALSE(Parse("21.5", {}).ok());
  EXPECT_FALSE(not_json_);
  EXPECT_FALSE(Parse(R"({"device_id":"a"})", {}).ok()) << "kind missing";
  EXPECT_TRUE(Parse(R"({"device_id":"a","kind":"k"})", {}).ok());
}

}  // namespace
}  // namespace cistern::mqtt
