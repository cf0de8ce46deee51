// ParseLimits: the bounds ParseEvents and ParseMqttPayload (event/parse.h) enforce on one
// request body or MQTT payload, in a header of its own so that option structs (the router's,
// the MQTT listener's, the daemon's Config) can hold them without pulling in simdjson.
#pragma once

#include <cstddef>

namespace cistern {

struct ParseLimits {
  size_t max_events = 10'000;
  size_t max_payload_bytes = 64 * 1024;
  size_t max_field_bytes = 256;
};

}  // namespace cistern
