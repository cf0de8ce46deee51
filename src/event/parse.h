// Request body -> validated EventBatch. Pure (no I/O, no clocks, no globals), fuzzed.
//
// Contract (docs/api.md):
//  - kJson: one event object, or a JSON array of event objects (an empty array is an error).
//  - kNdjson: one event object per line; blank lines (and a trailing \r) are skipped.
//  - device_id, kind: required, non-empty strings of at most limits.max_field_bytes bytes,
//    without control characters. payload: optional, any JSON value, stored compacted (absent or
//    null -> SQL NULL), at most limits.max_payload_bytes once compacted. ts: optional integer
//    unix ms from 2000-01-01 to 9999-12-31 (anything else is seconds, µs or ns sent by mistake:
//    an error naming the unit it looks like); 0, null or absent -> now_ms. Unknown fields are
//    ignored; a known field given twice is an error (which one would win is ambiguous).
//  - The whole request is validated before anything is returned: on any error `out` is left
//    empty and `*error_index` names the offending event (-1 when the body as a whole is bad).
//  - Errors: InvalidArgument (-> 400) for bad JSON / fields, TooLarge (-> 413) when the
//    request holds more than limits.max_events events.
#pragma once

#include <simdjson.h>

#include <cstdint>

#include "common/status.h"
#include "event/event.h"
#include "event/parse_limits.h"

namespace cistern {

enum class BodyFormat { kJson, kNdjson };

// REQUIRES: body is padded (simdjson::SIMDJSON_PADDING readable bytes past its end).
// `parser` is scratch space, reused across calls by the same thread.
Status ParseEvents(simdjson::padded_string_view body, BodyFormat format, const ParseLimits& limits,
                   int64_t now_ms, simdjson::dom::parser& parser, EventBatch* out,
                   int64_t* error_index);

// MQTT ingest (docs/mqtt.md): a PUBLISH payload -> events, with `topic` filling the fields an
// event lacks. Like ParseEvents (same limits, all or nothing), plus:
//  - the payload is one JSON document (an event object, or an array of them) or NDJSON;
//  - an object with a "device_id" key is an event: a missing "kind" comes from topic.kind;
//  - any other JSON value (a number, a string, an object without device_id, an array that is
//    not all such objects) becomes the payload of one event with device and kind from topic;
//  - `topic` fields may be empty (the topic did not match the template): events must then
//    carry their own.
// *not_json is set when the payload is neither JSON nor NDJSON (then InvalidArgument).
struct TopicFields {
  std::string_view device_id;
  std::string_view kind;
};
Status ParseMqttPayload(simdjson::padded_string_view body, const TopicFields& topic,
                        const ParseLimits& limits, int64_t now_ms, simdjson::dom::parser& parser,
                        EventBatch* out, bool* not_json);

}  // namespace cistern
