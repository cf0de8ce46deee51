// MQTT payloads -> store appends (docs/mqtt.md, "Payloads" and "Will"): the parse every
// PUBLISH and Will payload goes through, and the Will's own append, which no client waits for.
// Any thread (the parser is thread_local); the context must be alive.
#pragma once

#include <string>

#include "common/status.h"
#include "ingest/mqtt/context.h"

namespace cistern::mqtt {

// The events of a PUBLISH or Will payload on `topic` (the listener's topic map fills
// device_id and kind), parsed with the limits in effect (MqttContext::live). When the payload
// is not events, returns the reason and leaves the payload as received in *raw, for a dead
// letter.
Status ParsePayload(const MqttContext& ctx, const std::string& topic, const Bytes& payload,
                    EventBatch* out, std::string* raw);

// Stores the Will of `client_id`'s connection: its events, or an "mqtt-will" dead letter when
// the payload is not events (counted in wills or dead_letters). Nobody waits for the commit (a
// Will is the broker's message, not the client's); a failure is logged.
void StoreWill(MqttContext& ctx, Will&& will, const std::string& client_id);

}  // namespace cistern::mqtt
