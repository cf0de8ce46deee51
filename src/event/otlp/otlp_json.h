// OTLP/JSON <-> protobuf messages (OTLP spec, "JSON Protobuf Encoding"): the proto3 JSON mapping
// with OTLP's deviations, trace/span ids as hex strings instead of base64. Parsing goes through
// libprotobuf's JSON parser after an OTLP-aware rewrite; printing is our own (otlp_json.cc says
// why). Enums are printed as integers; integers and known names are accepted (an unknown name
// is an error). 64-bit integers are printed as decimal strings; strings and numbers are
// accepted. Field names are printed in lowerCamelCase; lowerCamelCase and the proto (snake_case)
// names are accepted. Repeated fields must be arrays (or null). Unknown fields are ignored.
// Internal to the OTLP codec (src/event/otlp/). Thread-safe: no shared state.
#pragma once

#include <google/protobuf/message.h>
#include <simdjson.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace cistern::otlp {

// Parses an OTLP/JSON document into *message (cleared first). Checks that the text is valid
// JSON and UTF-8 (simdjson), that ids are hex and AnyValues nest at most max_value_depth deep.
// Returns InvalidArgument with a message naming the problem (and the field's path where known);
// *message is then unspecified.
Status ParseOtlpJson(std::string_view json, int max_value_depth,
                     google::protobuf::Message* message);

// The same for a document already parsed by simdjson (e.g. a part of a stored payload).
Status ParseOtlpJsonElement(simdjson::dom::element json, int max_value_depth,
                            google::protobuf::Message* message);

// Appends `message` as compact OTLP/JSON to *out.
void AppendOtlpJson(const google::protobuf::Message& message, std::string* out);

}  // namespace cistern::otlp
