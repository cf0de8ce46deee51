// The per-connection answer order: PUBACK/PUBREC/PUBCOMP leave in arrival order, whatever
// order the commits complete in (docs/mqtt.md).
#include "ingest/mqtt/ack_queue.h"

#include <gtest/gtest.h>

namespace cistern::mqtt {
namespace {

std::vector<uint16_t> Ids(const std::vector<PublishResponse>& v) {
  std::vector<uint16_t> out;
  for (const auto& r : v) out.push_back(r.packet_id);
  return out;
}

TEST(AckQueueTest, AnswersLeaveInArrivalOrderOnly) {
  AckQueue q;
  auto t1 = q.Push(PacketType::kPubAck, 1);
  auto t2 = q.Push(PacketType::kPubAck, 2);
  auto t3 = q.Push(PacketType::kPubRec, 3);
  EXPECT_EQ(q.size(), 3u);
  std::vector<PublishResponse> out;
  q.Complete(t3, ReasonCode::kSuccess);
  q.Complete(t2, ReasonCode::kSuccess);
  EXPECT_EQ(q.PopReady(&out), 0u) << "1 is not committed: 2 and 3 wait";
  EXPECT_TRUE(out.empty());
  q.Complete(t1, ReasonCode::kSuccess);
  EXPECT_EQ(q.PopReady(&out), 3u);
  EXPECT_EQ(Ids(out), (std::vector<uint16_t>{1, 2, 3}));
  EXPECT_EQ(out[2].type, PacketType::kPubRec);
  EXPECT_TRUE(q.empty());
}

TEST(AckQueueTest, Qos0TakesASlotButSendsNothing) {
  AckQueue q;
  auto t0 = q.Push(std::nullopt, 0);
  auto t1 = q.Push(PacketType::kPubAck, 9);
  q.Complete(t1, ReasonCode::kPayloadFormatInvalid, "not JSON");
  std::vector<PublishResponse> out;
  EXPECT_EQ(q.PopReady(&out), 0u);
  EXPECT_EQ(q.size(), 2u) << "the QoS 0 message is in flight until its commit";
  q.Complete(t0, ReasonCode::kSuccess);
  EXPECT_EQ(q.PopReady(&out), 2u);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].reason, ReasonCode::kPayloadFormatInvalid);
  EXPECT_EQ(out[0].properties.reason_string, "not JSON");
}

TEST(AckQueueTest, StaleAndRepeatedCompletionsAreIgnored) {
  AckQueue q;
  auto t = q.Push(PacketType::kPubComp, 4);
  q.Complete(t, ReasonCode::kSuccess);
  q.Complete(t, ReasonCode::kPacketIdentifierNotFound);
  std::vector<PublishResponse> out;
  EXPECT_EQ(q.PopReady(&out), 1u);
  EXPECT_EQ(out[0].reason, ReasonCode::kSuccess);
  q.Complete(t, ReasonCode::kSuccess);  // already gone
  q.Complete(t + 5, ReasonCode::kSuccess);
  EXPECT_TRUE(q.empty());
  auto next = q.Push(PacketType::kPubAck, 5);
  EXPECT_EQ(next, t + 1);
}

}  // namespace
}  // namespace cistern::mqtt
