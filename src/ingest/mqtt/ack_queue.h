// AckQueue: the answers of one MQTT connection, in the order their packets arrived
// (docs/mqtt.md). Every PUBLISH (any QoS) and PUBREL takes a ticket when it arrives; the
// answer (PUBACK, PUBREC, PUBCOMP, or none for QoS 0) is marked ready when the store's commit
// returned, and leaves only once every earlier ticket's has: a PUBACK never overtakes the
// PUBACK of an earlier PUBLISH, whatever order the group commits complete in.
// size() is the number of packets still in flight, what Receive Maximum bounds.
// Not thread-safe: one per connection, used on its strand.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "ingest/mqtt/packet.h"

namespace cistern::mqtt {

class AckQueue {
 public:
  // `answer`: kPubAck, kPubRec, kPubComp; nullopt for a QoS 0 PUBLISH (nothing to send, but
  // it still counts as in flight until its commit). Returns the ticket.
  uint64_t Push(std::optional<PacketType> answer, uint16_t packet_id);
  // The ticket's answer may go, with `reason` (and a 5.0 Reason String when not empty).
  // Unknown or completed tickets are ignored.
  void Complete(uint64_t ticket, ReasonCode reason, std::string reason_string = {});
  // Moves the answers that may go now (the ready prefix) to *out, in arrival order; QoS 0
  // entries leave without an answer. Returns how many entries left.
  size_t PopReady(std::vector<PublishResponse>* out);

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    std::optional<PacketType> answer;
    uint16_t packet_id = 0;
    bool ready = false;
    ReasonCode reason = ReasonCode::kSuccess;
    std::string reason_string;
  };
  std::deque<Entry> entries_;
  uint64_t front_ticket_ = 0;  // ticket of entries_.front()
};

}  // namespace cistern::mqtt
