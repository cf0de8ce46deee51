#include "ingest/mqtt/inflight.h"

#include "ingest/mqtt/decoder.h"
#include "ingest/mqtt/payload.h"

namespace cistern::mqtt {

void InflightPublishes::RestoreQos2(const std::vector<int64_t>& packet_ids) {
  for (int64_t id : packet_ids) qos2_.insert(static_cast<uint16_t>(id));
}

std::optional<uint64_t> InflightPublishes::OnPublish(Publish&& p, ProtocolVersion version,
                                                     const std::string& client_id) {
  counters_.messages.fetch_add(1, std::memory_order_relaxed);
  std::optional<PacketType> answer;
  if (p.qos == 1) answer = PacketType::kPubAck;
  if (p.qos == 2) answer = PacketType::kPubRec;
  const uint64_t ticket = acks_.Push(answer, p.packet_id);
  if (p.qos == 2 && qos2_.count(p.packet_id)) {
    // Sent again before PUBREL: stored already (or being stored; its PUBREC goes after).
    counters_.duplicates.fetch_add(1, std::memory_order_relaxed);
    acks_.Complete(ticket, ReasonCode::kSuccess);
    return std::nullopt;
  }
  const bool v5 = version == ProtocolVersion::kV5;
  if (ReasonCode rc = CheckPayloadFormat(p); rc != ReasonCode::kSuccess && v5 && p.qos > 0) {
    counters_.rejected.fetch_add(1, std::memory_order_relaxed);
    acks_.Complete(ticket, rc);
    return std::nullopt;
  }
  Pending pending;
  std::string raw;
  if (Status s = ParsePayload(ctx_, p.topic, p.payload, &pending.batch, &raw); !s.ok()) {
    if (v5 && p.qos > 0) {
      // 5.0 can say no: PUBACK/PUBREC 0x99 Payload format invalid, with the reason.
      counters_.rejected.fetch_add(1, std::memory_order_relaxed);
      acks_.Complete(ticket, ReasonCode::kPayloadFormatInvalid, s.message());
      return std::nullopt;
    }
    // 3.1.1 has no negative ack: keep the message as a dead letter, then acknowledge it.
    counters_.dead_letters.fetch_add(1, std::memory_order_relaxed);
    pending.extras.dead_letters.push_back(
        DeadLetter{"mqtt", s.message(), client_id + " " + p.topic, std::move(raw)});
  }
  if (p.qos == 2) {
    pending.extras.qos2_client = client_id;
    pending.extras.qos2_packet_id = p.packet_id;
    qos2_.insert(p.packet_id);
  }
  pending_.emplace(ticket, std::move(pending));
  return ticket;
}

std::pair<EventBatch, AppendExtras> InflightPublishes::Append(uint64_t ticket) {
  Pending& p = pending_.at(ticket);
  p.failed = false;
  return {p.batch, p.extras};
}

InflightPublishes::Appended InflightPublishes::OnAppended(uint64_t ticket, const AppendResult& r,
                                                          ProtocolVersion version) {
  auto it = pending_.find(ticket);
  if (it == pending_.end()) return Appended::kUnknown;
  if (r.status.ok()) {
    if (r.duplicate) counters_.duplicates.fetch_add(1, std::memory_order_relaxed);
    counters_.events.fetch_add(static_cast<int64_t>(r.count), std::memory_order_relaxed);
    pending_.erase(it);
    acks_.Complete(ticket, ReasonCode::kSuccess);
    return Appended::kAnswered;
  }
  if (r.status.code() == Status::Code::kTooLarge) {
    // Larger than the whole buffer: no retry can succeed. 5.0 can say so; 3.1.1 cannot, so
    // its connection closes without the ack (docs/mqtt.md, limits).
    pending_.erase(it);
    if (version != ProtocolVersion::kV5) return Appended::kClose;
    counters_.rejected.fetch_add(1, std::memory_order_relaxed);
    acks_.Complete(ticket, ReasonCode::kQuotaExceeded, r.status.message());
    return Appended::kAnswered;
  }
  // Refused or failed: nothing of it was stored. No negative ack (a client may take it as
  // final): the caller pauses and submits the same append again.
  counters_.store_retries.fetch_add(1, std::memory_order_relaxed);
  it->second.failed = true;
  return Appended::kRefused;
}

std::vector<uint64_t> InflightPublishes::Failed() const {
  std::vector<uint64_t> tickets;
  for (const auto& [ticket, p] : pending_) {
    if (p.failed) tickets.push_back(ticket);
  }
  return tickets;
}

std::optional<uint64_t> InflightPublishes::OnPubRel(uint16_t packet_id, ProtocolVersion version) {
  const uint64_t ticket = acks_.Push(PacketType::kPubComp, packet_id);
  if (!qos2_.erase(packet_id)) {
    // Nothing received under this id (already released): 5.0 says so, 3.1.1 just completes.
    acks_.Complete(ticket, version == ProtocolVersion::kV5 ? ReasonCode::kPacketIdentifierNotFound
                                                           : ReasonCode::kSuccess);
    return std::nullopt;
  }
  return ticket;
}

void InflightPublishes::Released(uint64_t ticket) { acks_.Complete(ticket, ReasonCode::kSuccess); }

void InflightPublishes::PopReady(std::vector<PublishResponse>* out) {
  const size_t before = out->size();
  acks_.PopReady(out);
  counters_.acks.fetch_add(static_cast<int64_t>(out->size() - before), std::memory_order_relaxed);
}

}  // namespace cistern::mqtt
