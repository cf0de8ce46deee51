// SIGHUP reload and the MQTT listener (docs/configuration.md "Reload", docs/mqtt.md): a new
// CONNECT is checked against the token file as it is now, a connection accepted before the
// reload keeps publishing; the listen addresses and the topic template need a restart and are
// reported so. A raw MQTT 3.1.1 client (support/mqtt_raw_client.h) against the real binary.
#include "integration/reload_fixture.h"
#include "support/mqtt_raw_client.h"

namespace cistern::testing {
namespace {

class ReloadMqttTest : public ReloadTest {
 protected:
  std::string Config(const std::string& extra = "") {
    return Write("cistern.toml", "sink = \"none\"\nauth-token-file = \"" + dir_.File("tokens") +
                                     "\"\nmqtt-listen = \"127.0.0.1:" + std::to_string(port_) +
                                     "\"\n" + extra);
  }
  // CONNECT with `password`; the CONNACK return code (-1: no CONNACK).
  int Connect(RawMqttClient& c, const std::string& id, const std::string& password) {
    if (!c.Connect(port_)) return -1;
    auto ack = c.Handshake(id, true, password);
    return ack && ack->type == 2 ? ack->reason() : -1;
  }
  // A QoS 1 PUBLISH; true when its PUBACK came.
  static bool Publish(RawMqttClient& c, uint16_t packet_id) {
    if (!c.Send(RawMqttClient::MakePublish("devices/d/t", R"({"v":1})", 1, packet_id))) {
      return false;
    }
    auto ack = c.Read();
    return ack && ack->type == 4 && ack->packet_id() == packet_id;
  }

  uint16_t port_ = FreePort();
};

TEST_F(ReloadMqttTest, NewConnectsUseTheNewTokensAndOpenConnectionsStay) {
  Write("tokens", "old-token\n");
  StartWithFile(Config());
  RawMqttClient before;
  ASSERT_EQ(Connect(before, "before", "old-token"), 0);
  ASSERT_TRUE(Publish(before, 1));

  Write("tokens", "new-token\n");
  Reload();
  const std::string log = server_->Log();
  EXPECT_NE(log.find("config reloaded: auth-token-file (1 -> 1 token(s))"), std::string::npos)
      << log;
  EXPECT_EQ(log.find("needs a restart"), std::string::npos) << log;
  EXPECT_EQ(JsonInt(StatsBody(), "/config/restart_pending"), 0);

  RawMqttClient old_token, new_token;
  EXPECT_EQ(Connect(old_token, "old", "old-token"), 5) << "3.1.1 return code 5: not authorized";
  EXPECT_TRUE(old_token.WaitClosed());
  EXPECT_EQ(Connect(new_token, "new", "new-token"), 0);
  EXPECT_TRUE(Publish(new_token, 1));
  EXPECT_TRUE(Publish(before, 2)) << "a connection accepted before the reload keeps publishing";
  EXPECT_TRUE(WaitFor([&] { return Rows() == 3; })) << Rows();
  // HTTP follows the same file.
  EXPECT_EQ(Post(Events(1), "old-token"), 401);
  EXPECT_EQ(Post(Events(1), "new-token"), 200);
}

TEST_F(ReloadMqttTest, TheListenAddressAndTopicTemplateNeedARestart) {
  Write("tokens", "t\n");
  StartWithFile(Config());
  Config("mqtt-listen-topic = \"sensors/<device_id>/<kind>\"\n");
  Reload();
  const std::string log = server_->Log();
  EXPECT_NE(log.find("config reload: mqtt-listen-topic changed but needs a restart"),
            std::string::npos)
      << log;
  EXPECT_EQ(JsonInt(StatsBody(), "/config/restart_pending"), 1);
  // The running template stays: devices/<device_id>/<kind> names the device.
  RawMqttClient c;
  ASSERT_EQ(Connect(c, "c", "t"), 0);
  ASSERT_TRUE(Publish(c, 1));
  EXPECT_EQ(QueryRows(db(), "SELECT device_id FROM events"),
            (std::vector<std::vector<std::string>>{{"d"}}));
}

}  // namespace
}  // namespace cistern::testing
