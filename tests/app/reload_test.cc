// MergeLive: a reload takes the live settings of the new config and keeps every other one.
#include "app/reload.h"

#include <gtest/gtest.h>

namespace cistern {
namespace {

TEST(MergeLive, AppliesLiveSettingsAndKeepsThoseThatNeedARestart) {
  Config running;
  Config next = running;
  next.log_level = "debug";
  next.router.ingest_tokens = {"t"};
  next.router.parse.max_events = 7;
  next.uploader.interval = std::chrono::milliseconds(250);
  next.uploader.max_backoff = std::chrono::milliseconds(100);
  next.uploader.initial_backoff = std::chrono::milliseconds(100);
  next.store.max_backlog = 9;
  next.store.on_full = OnFull::kDropOldest;
  next.store.retain_uploaded = std::chrono::milliseconds(0);
  next.store.path = "other.db";
  next.server.port = 9999;
  next.sink.name = "webhook";
  next.router.max_body_bytes = 1;

  ReloadOutcome out;
  Config m = MergeLive(running, next, &out);
  EXPECT_EQ(m.log_level, "debug");
  EXPECT_EQ(m.router.ingest_tokens, std::vector<std::string>{"t"});
  EXPECT_EQ(m.router.parse.max_events, 7u);
  EXPECT_EQ(m.uploader.interval.count(), 250);
  EXPECT_EQ(m.uploader.max_backoff.count(), 100);
  EXPECT_EQ(m.uploader.initial_backoff.count(), 100);
  EXPECT_EQ(m.store.max_backlog, 9);
  EXPECT_EQ(m.store.on_full, OnFull::kDropOldest);
  EXPECT_EQ(m.store.retain_uploaded.count(), 0);
  EXPECT_EQ(m.store.path, running.store.path);
  EXPECT_EQ(m.server.port, running.server.port);
  EXPECT_EQ(m.sink.name, "webhook");
  EXPECT_EQ(m.router.max_body_bytes, running.router.max_body_bytes);
  EXPECT_EQ(out.restart, (std::vector<std::string>{"db", "addr", "max-body-bytes"}));
  EXPECT_EQ(out.applied.size(), 9u);
  EXPECT_EQ(out.applied[0], "log-level info -> debug");
  EXPECT_EQ(out.applied[1], "auth-token-file (0 -> 1 token(s))");
}

// Every setting is either applied or reported: none may change in the file and be ignored
// without a word (docs/configuration.md "Reload").
TEST(MergeLive, EverySettingThatCannotChangeLiveIsReported) {
  Config running;
  running.mqtt_listen.plain = true;
  Config next = running;
  next.mqtt_listen.port = 1884;
  next.mqtt_listen.tls = true;
  next.mqtt_listen.tls_port = 8884;
  next.mqtt_listen.topic_template = "t/<device_id>/<kind>";
  next.router.otlp_decode.device_id_attributes = {"host.name"};
  ReloadOutcome out;
  Config m = MergeLive(running, next, &out);
  EXPECT_EQ(out.restart, (std::vector<std::string>{"otlp-device-attrs", "mqtt-listen",
                                                   "mqtts-listen", "mqtt-listen-topic"}));
  EXPECT_TRUE(out.applied.empty());
  EXPECT_EQ(m.mqtt_listen.port, running.mqtt_listen.port);
  EXPECT_EQ(m.mqtt_listen.topic_template, running.mqtt_listen.topic_template);
  EXPECT_EQ(m.router.otlp_decode.device_id_attributes,
            running.router.otlp_decode.device_id_attributes);
}

// The sink and every one of its settings change live (the uploader switches sinks); secrets
// are never printed, and a URL's credentials neither.
TEST(MergeLive, TheSinkAndItsSettingsAreLive) {
  Config running;
  Config next = running;
  next.sink.name = "webhook";
  next.sink.webhook_url = "http://user:pw@127.0.0.1:9/in";
  next.sink.webhook_authorization = "Bearer secret";
  next.sink.otlp_headers = {"X-Key: secret"};
  next.sink.otlp_url = "http://127.0.0.1:4318";
  next.sink.nats_subject = "a.<device_id>";
  next.sink.sink_timeout = std::chrono::milliseconds(500);
  ReloadOutcome out;
  Config m = MergeLive(running, next, &out);
  EXPECT_TRUE(out.restart.empty());
  EXPECT_TRUE(m.sink == next.sink);
  std::string all;
  for (const auto& a : out.applied) all += a + "\n";
  EXPECT_NE(all.find("sink log -> webhook\n"), std::string::npos) << all;
  EXPECT_NE(all.find("webhook-url \"\" -> http://***@127.0.0.1:9/in\n"), std::string::npos) << all;
  EXPECT_NE(all.find("webhook-authorization (changed)\n"), std::string::npos) << all;
  EXPECT_NE(all.find("otlp-header (changed)\n"), std::string::npos) << all;
  EXPECT_NE(all.find("otlp-url \"\" -> http://127.0.0.1:4318\n"), std::string::npos) << all;
  EXPECT_NE(all.find("nats-subject cistern.events.<device_id> -> a.<device_id>\n"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("sink-timeout 10000ms -> 500ms\n"), std::string::npos) << all;
  EXPECT_EQ(all.find("secret"), std::string::npos) << all;
  EXPECT_EQ(all.find("pw"), std::string::npos) << all;
}

// Without an uploader (--sink none) there is nothing to switch: to or from none needs a
// restart, and so do the settings of a sink that is not running.
TEST(MergeLive, ToOrFromSinkNoneNeedsARestart) {
  for (auto [from, to] : {std::pair{"none", "log"}, std::pair{"log", "none"}}) {
    Config running;
    running.sink.name = from;
    Config next = running;
    next.sink.name = to;
    next.sink.webhook_url = "http://127.0.0.1:9/";
    ReloadOutcome out;
    Config m = MergeLive(running, next, &out);
    EXPECT_EQ(out.restart, (std::vector<std::string>{"sink", "webhook-url"})) << from;
    EXPECT_TRUE(m.sink == running.sink);
  }
}

// The MQTT listener follows the ingest tokens and the parse limits (docs/mqtt.md).
TEST(MergeLive, TheMqttListenerTakesTheNewTokensAndLimits) {
  Config running;
  running.mqtt_listen.plain = true;
  Config next = running;
  next.router.ingest_tokens = next.mqtt_listen.tokens = {"t2"};
  next.router.parse.max_events = next.mqtt_listen.parse.max_events = 3;
  ReloadOutcome out;
  Config m = MergeLive(running, next, &out);
  EXPECT_TRUE(out.restart.empty()) << out.restart.front();
  EXPECT_EQ(m.mqtt_listen.tokens, std::vector<std::string>{"t2"});
  EXPECT_EQ(m.mqtt_listen.parse.max_events, 3u);
}

TEST(MergeLive, NothingChangedIsNothingApplied) {
  Config c;
  ReloadOutcome out;
  MergeLive(c, c, &out);
  EXPECT_TRUE(out.applied.empty());
  EXPECT_TRUE(out.restart.empty());
}

}  // namespace
}  // namespace cistern
