// InflightPublishes: the QoS 0/1/2 acknowledgement bookkeeping of one MQTT connection
// (docs/mqtt.md), without I/O: the session (session.h) reads, writes, calls the store and
// posts its answers back; this class decides what each packet needs and what each store
// answer means.
//
// It keeps:
//  - the answers in arrival order (AckQueue): every PUBLISH (any QoS) and PUBREL takes a
//    ticket; a PUBACK/PUBREC/PUBCOMP leaves only after every earlier ticket's answer did;
//    size() is what Receive Maximum bounds;
//  - the appends not yet committed, as they were built, so an append the store refused
//    (buffer full, disk full, I/O error) is submitted again as is (never a negative ack);
//  - the QoS 2 packet ids received and not yet released (PUBREL), including those the store
//    kept from an earlier connection of the same session: a PUBLISH sent again under such an
//    id is answered without being stored twice.
// Every PUBLISH is counted in MqttCounters::messages, and its outcome in events, duplicates,
// rejected, dead_letters, store_retries; every answer that leaves in acks.
//
// Not thread-safe: one per connection, used on its strand only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "ingest/mqtt/ack_queue.h"
#include "ingest/mqtt/context.h"

namespace cistern::mqtt {

class InflightPublishes {
 public:
  // `ctx` must outlive this object (the session holds it).
  explicit InflightPublishes(MqttContext& ctx) : ctx_(ctx), counters_(ctx.counters()) {}

  // The QoS 2 packet ids the store kept for the session (OpenMqttSession's values).
  void RestoreQos2(const std::vector<int64_t>& packet_ids);

  // A PUBLISH arrived from `client_id` speaking `version`. Returns the ticket of the append to
  // submit (Append(ticket)); nullopt when its answer is decided already (a QoS 2 PUBLISH sent
  // again before PUBREL, a 5.0 payload rejected): the caller flushes.
  std::optional<uint64_t> OnPublish(Publish&& p, ProtocolVersion version,
                                    const std::string& client_id);
  // What to hand the store for `ticket`: a copy (the original stays until committed). Empty
  // batch and extras: nothing to store (a QoS 0 PUBLISH that parsed to nothing).
  // REQUIRES: ticket came from OnPublish and is not committed yet.
  std::pair<EventBatch, AppendExtras> Append(uint64_t ticket);

  enum class Appended {
    kAnswered,  // committed, or refused for good with a 5.0 reason: the caller flushes
    kClose,     // too large for the whole buffer and 3.1.1 cannot say so: close, no answer
    kRefused,   // refused for now: kept; submit Failed() again after a pause
    kUnknown,   // not a ticket in flight
  };
  Appended OnAppended(uint64_t ticket, const AppendResult& r, ProtocolVersion version);
  // The tickets refused for now (kRefused), to submit again, oldest first.
  std::vector<uint64_t> Failed() const;

  // A PUBREL arrived. Returns the ticket of its PUBCOMP when the store must release the
  // receipt first (then Released(ticket)); nullopt when the answer is decided already
  // (nothing received under that id): the caller flushes.
  std::optional<uint64_t> OnPubRel(uint16_t packet_id, ProtocolVersion version);
  void Released(uint64_t ticket);

  // Moves the answers that may go now to *out, in arrival order.
  void PopReady(std::vector<PublishResponse>* out);
  // Packets in flight (answered or not, not yet sent).
  size_t size() const { return acks_.size(); }
  bool empty() const { return acks_.empty(); }

 private:
  // One append kept until its commit succeeded (retried as is after a refusal).
  struct Pending {
    EventBatch batch;
    AppendExtras extras;
    bool failed = false;
  };

  MqttContext& ctx_;
  MqttCounters& counters_;
  AckQueue acks_;
  std::map<uint64_t, Pending> pending_;  // ticket -> append not yet committed
  std::unordered_set<uint16_t> qos2_;    // received QoS 2 packet ids awaiting PUBREL
};

}  // namespace cistern::mqtt
