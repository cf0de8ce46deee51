// What the store keeps beside events for the front-ends: dead letters (bounded, never silent)
// and MQTT sessions with their QoS 2 receipts (exactly-once into the store).
#include "store/receipts.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "store/store.h"
#include "support/sqlite_peek.h"
#include "support/store_helpers.h"
#include "support/temp_dir.h"

namespace cistern::testing {
namespace {

class ReceiptsTest : public ::testing::Test {
 protected:
  std::shared_ptr<Store> Open() {
    StoreOptions o;
    o.path = db();
    o.max_backlog = 0;
    auto s = Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? s.value() : nullptr;
  }
  static AppendResult AppendWith(Store& store, EventBatch batch, AppendExtras extras) {
    std::promise<AppendResult> p;
    store.Append(std::move(batch), std::move(extras),
                 [&p](const AppendResult& r) { p.set_value(r); });
    return p.get_future().get();
  }
  template <typename F>
  static OpResult Wait(F start) {
    std::promise<OpResult> p;
    start([&p](const OpResult& r) { p.set_value(r); });
    return p.get_future().get();
  }
  std::string db() const { return dir_.File("events.db"); }
  TempDir dir_;
};

TEST_F(ReceiptsTest, DeadLettersAreStoredWithTheEventsAndBounded) {
  auto store = Open();
  AppendExtras extras;
  extras.dead_letters.push_back(
      {"mqtt", "payload is not JSON", "c1 devices/a/t", std::string("\xff\x00raw", 5)});
  auto r = AppendWith(*store, MakeBatch(2), std::move(extras));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(CountEvents(db()), 2);
  EXPECT_EQ(QueryRows(db(), "SELECT source, reason, origin, length(body) FROM dead_letters")[0],
            (std::vector<std::string>{"mqtt", "payload is not JSON", "c1 devices/a/t", "5"}));
  // Dead letters alone (no event) are a request too.
  AppendExtras only;
  for (int i = 0; i < Receipts::kMaxDeadLetters + 5; ++i) {
    only.dead_letters.push_back({"otlp-logs", "record too large", "r" + std::to_string(i), "x"});
  }
  r = AppendWith(*store, EventBatch{}, std::move(only));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.count, 0u);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM dead_letters"), Receipts::kMaxDeadLetters);
  EXPECT_EQ(QueryRows(db(), "SELECT origin FROM dead_letters ORDER BY id DESC LIMIT 1")[0][0],
            "r" + std::to_string(Receipts::kMaxDeadLetters + 4))
      << "the newest are kept";
  EXPECT_EQ(store->Stats().dead_letters, Receipts::kMaxDeadLetters + 6);
}

TEST_F(ReceiptsTest, Qos2ReceiptsLiveUntilPubrelAndSurviveARestart) {
  {
    auto store = Open();
    auto opened = Wait([&](OpCallback cb) { store->OpenMqttSession("c1", false, -1, cb); });
    ASSERT_TRUE(opened.status.ok());
    EXPECT_TRUE(opened.values.empty());
    for (uint16_t id : {7, 9}) {
      AppendExtras extras;
      extras.qos2_client = "c1";
      extras.qos2_packet_id = id;
      ASSERT_TRUE(AppendWith(*store, MakeBatch(1), std::move(extras)).status.ok());
    }
    ASSERT_TRUE(Wait([&](OpCallback cb) { store->ReleaseQos2("c1", 9, cb); }).status.ok());
    ASSERT_TRUE(Wait([&](OpCallback cb) { store->CloseMqttSession("c1", -1, cb); }).status.ok());
  }
  auto store = Open();  // a restart
  auto again = Wait([&](OpCallback cb) { store->OpenMqttSession("c1", false, -1, cb); });
  ASSERT_TRUE(again.status.ok());
  EXPECT_EQ(again.values, std::vector<int64_t>{7}) << "7 was stored, not yet released";
  // Another client's ids are its own; a clean session forgets everything.
  auto other = Wait([&](OpCallback cb) { store->OpenMqttSession("c2", false, -1, cb); });
  EXPECT_TRUE(other.values.empty());
  auto clean = Wait([&](OpCallback cb) { store->OpenMqttSession("c1", true, 0, cb); });
  EXPECT_TRUE(clean.values.empty());
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM mqtt_qos2"), 0);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM mqtt_sessions WHERE client_id = 'c1'"), 0);
}

TEST_F(ReceiptsTest, AQos2PublishSentAgainBeforePubrelIsNotStoredTwice) {
  auto store = Open();
  auto first = Wait([&](OpCallback cb) { store->OpenMqttSession("c1", false, -1, cb); });
  ASSERT_TRUE(first.status.ok());
  EXPECT_EQ(first.count, 0) << "no stored session yet: Session Present 0";
  auto publish = [&] {
    AppendExtras extras;
    extras.qos2_client = "c1";
    extras.qos2_packet_id = 5;
    return AppendWith(*store, MakeBatch(1), std::move(extras));
  };
  auto stored = publish();
  ASSERT_TRUE(stored.status.ok());
  EXPECT_FALSE(stored.duplicate);
  EXPECT_EQ(stored.count, 1u);
  auto again = publish();
  ASSERT_TRUE(again.status.ok()) << again.status.message();
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.count, 0u);
  EXPECT_EQ(CountEvents(db()), 1);
  EXPECT_EQ(store->Stats().backlog, 1);
  // Both in one group: the second sees the first's receipt in the same transaction.
  std::promise<AppendResult> a, b;
  for (auto* p : {&a, &b}) {
    AppendExtras extras;
    extras.qos2_client = "c1";
    extras.qos2_packet_id = 6;
    store->Append(MakeBatch(1), std::move(extras), [p](const AppendResult& r) { p->set_value(r); });
  }
  EXPECT_FALSE(a.get_future().get().duplicate);
  EXPECT_TRUE(b.get_future().get().duplicate);
  EXPECT_EQ(CountEvents(db()), 2);
  // After PUBREL the packet id is free for a new message.
  ASSERT_TRUE(Wait([&](OpCallback cb) { store->ReleaseQos2("c1", 5, cb); }).status.ok());
  EXPECT_FALSE(publish().duplicate);
  EXPECT_EQ(CountEvents(db()), 3);
  auto kept = Wait([&](OpCallback cb) { store->OpenMqttSession("c1", false, -1, cb); });
  EXPECT_EQ(kept.count, 1) << "the stored session: Session Present 1";
}

TEST_F(ReceiptsTest, ASessionExpiresAfterItsClientLeft) {
  auto store = Open();
  ASSERT_TRUE(
      Wait([&](OpCallback cb) { store->OpenMqttSession("gone", false, 50, cb); }).status.ok());
  AppendExtras extras;
  extras.qos2_client = "gone";
  extras.qos2_packet_id = 3;
  ASSERT_TRUE(AppendWith(*store, MakeBatch(1), std::move(extras)).status.ok());
  ASSERT_TRUE(Wait([&](OpCallback cb) { store->CloseMqttSession("gone", 50, cb); }).status.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  auto back = Wait([&](OpCallback cb) { store->OpenMqttSession("gone", false, 50, cb); });
  EXPECT_TRUE(back.values.empty()) << "the session expired while its client was away";
  // Expiry 0: nothing outlives the connection.
  ASSERT_TRUE(Wait([&](OpCallback cb) { store->CloseMqttSession("gone", 0, cb); }).status.ok());
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM mqtt_sessions"), 0);
}

}  // namespace
}  // namespace cistern::testing
