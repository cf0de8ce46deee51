#include "ingest/mqtt/ack_queue.h"

#include <utility>

namespace cistern::mqtt {

uint64_t AckQueue::Push(std::optional<PacketType> answer, uint16_t packet_id) {
  Entry e;
  e.answer = answer;
  e.packet_id = packet_id;
  entries_.push_back(std::move(e));
  return front_ticket_ + entries_.size() - 1;
}

void AckQueue::Complete(uint64_t ticket, ReasonCode reason, std::string reason_string) {
  if (ticket < front_ticket_ || ticket - front_ticket_ >= entries_.size()) return;
  Entry& e = entries_[ticket - front_ticket_];
  if (e.ready) return;
  e.ready = true;
  e.reason = reason;
  e.reason_string = std::move(reason_string);
}

size_t AckQueue::PopReady(std::vector<PublishResponse>* out) {
  size_t n = 0;
  while (!entries_.empty() && entries_.front().ready) {
    Entry& e = entries_.front();
    if (e.answer) {
      PublishResponse r;
      r.type = *e.answer;
      r.packet_id = e.packet_id;
      r.reason = e.reason;
      if (!e.reason_string.empty()) r.properties.reason_string = std::move(e.reason_string);
      out->push_back(std::move(r));
    }
    entries_.pop_front();
    ++front_ticket_;
    ++n;
  }
  return n;
}

}  // namespace cistern::mqtt
