// One OTLP message <-> one OTLP/HTTP body, in either encoding (otlp_types.h). Internal to the
// OTLP codec. Thread-safe: no shared state (libprotobuf's log is muted while a binary body is
// parsed; see message_io.cc).
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

#include "common/status.h"
#include "event/otlp/otlp_types.h"

namespace cistern::otlp {

// Parses `body` into *message (cleared first). Binary: at most kOtlpMaxMessageDepth nested
// messages; a truncated body, invalid UTF-8 in a string field, deeper nesting, or a declared
// field sent with another wire type (which libprotobuf alone would keep as an unknown field) is
// InvalidArgument ("undecodable protobuf ..."); undeclared field numbers are ignored, as OTLP
// requires. JSON: see otlp_json.h. Then every AnyValue must nest at most max_value_depth deep
// (InvalidArgument otherwise). On failure *message is unspecified. Never throws.
Status ParseOtlpMessage(std::string_view body, OtlpEncoding encoding, int max_value_depth,
                        google::protobuf::Message* message);

// Serializes `message` as a body of the given encoding into *out (replaced).
// Errors: Internal where libprotobuf fails (e.g. a message over 2 GiB).
Status SerializeOtlpMessage(const google::protobuf::Message& message, OtlpEncoding encoding,
                            std::string* out);

// The deepest AnyValue nesting in `message` (0: none). Walks every set field by reflection.
int MaxValueDepth(const google::protobuf::Message& message);

}  // namespace cistern::otlp
