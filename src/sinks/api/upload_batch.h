// UploadBatch: the events one upload cycle ships, read from the backlog in id order, with the
// collector's node_id. Immutable once read; owned by the uploader thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "event/event.h"

namespace cistern {

struct UploadBatch {
  std::string node_id;
  std::vector<int64_t> ids;  // ids[i] belongs to events[i]; strictly increasing
  EventBatch events;

  size_t size() const { return ids.size(); }
  bool empty() const { return ids.empty(); }
  int64_t first_id() const { return ids.front(); }
  int64_t last_id() const { return ids.back(); }
};

// Appends event i as one JSON object to *out:
//   {"id":7,"node_id":"…","device_id":"…","kind":"…","payload":<stored JSON or null>,"ts":…}
// The payload is the stored compact JSON, inserted as it is (it was validated at ingest).
void AppendEventJson(const UploadBatch& batch, size_t i, std::string* out);

// The whole batch as a JSON array of those objects (the webhook body).
std::string BatchJson(const UploadBatch& batch);

// "<node_id>-<id>": the de-duplication key of event i (JetStream Nats-Msg-Id).
std::string EventKey(const UploadBatch& batch, size_t i);

// A key naming the whole batch, identical whenever the same ids are shipped again
// ("<node_id>-<first_id>-<last_id>"; the webhook's Idempotency-Key).
std::string BatchKey(const UploadBatch& batch);

// Fills a template such as "cistern.events.<device_id>" or "cistern/<device_id>/<kind>"
// with event i's fields (<device_id>, <kind>, <node_id>). Characters that the transport
// treats specially in a subject/topic are replaced by '_' ('.', '*', '>', ' ' for NATS
// (nats=true); '/', '+', '#' for MQTT (nats=false)) inside substituted values only.
std::string FillTemplate(std::string_view templ, const UploadBatch& batch, size_t i, bool nats);

}  // namespace cistern
