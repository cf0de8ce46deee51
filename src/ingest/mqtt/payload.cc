#include "ingest/mqtt/payload.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "common/clock.h"

namespace cistern::mqtt {

Status ParsePayload(const MqttContext& ctx, const std::string& topic, const Bytes& payload,
                    EventBatch* out, std::string* raw) {
  std::string body(payload.begin(), payload.end());
  const size_t size = body.size();
  body.reserve(size + simdjson::SIMDJSON_PADDING);
  thread_local simdjson::dom::parser parser;
  bool not_json = false;
  Status s = ParseMqttPayload(simdjson::padded_string_view(body.data(), size, body.capacity()),
                              ctx.topics().Match(topic), ctx.live()->parse, UnixMillis(), parser,
                              out, &not_json);
  if (!s.ok()) {
    body.resize(size);
    *raw = std::move(body);
  }
  return s;
}

void StoreWill(MqttContext& ctx, Will&& will, const std::string& client_id) {
  EventBatch batch;
  AppendExtras extras;
  std::string raw;
  if (Status s = ParsePayload(ctx, will.topic, will.payload, &batch, &raw); !s.ok()) {
    extras.dead_letters.push_back(
        DeadLetter{"mqtt-will", s.message(), client_id + " " + will.topic, std::move(raw)});
    ctx.counters().dead_letters.fetch_add(1, std::memory_order_relaxed);
  } else {
    ctx.counters().wills.fetch_add(1, std::memory_order_relaxed);
  }
  ctx.store().Append(std::move(batch), std::move(extras), [](const AppendResult& r) {
    if (!r.status.ok()) spdlog::warn("mqtt: a Will message was not stored: {}", r.status.message());
  });
}

}  // namespace cistern::mqtt
