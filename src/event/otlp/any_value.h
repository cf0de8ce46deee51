// AnyValue helpers of the OTLP codec (internal): an attribute as text, and a stored JSON payload
// as an AnyValue. Thread-safe: pure functions.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

#include "cistern/otlp/common.pb.h"

namespace cistern::otlp {

// The text of an attribute value usable as an identifier: a non-empty string as it is, an
// integer in decimal. Anything else (bool, double, bytes, array, kvlist, empty) is nullopt.
std::optional<std::string> IdentifierText(const opentelemetry::proto::common::v1::AnyValue& v);

// Converts a JSON value to an AnyValue: object -> kvlistValue (keys in document order),
// array -> arrayValue, string -> stringValue, integer -> intValue (one above int64's range ->
// doubleValue), other numbers -> doubleValue, bool -> boolValue, null -> the empty AnyValue.
// Returns false, leaving *out unspecified, when the result would nest deeper than max_depth.
bool JsonToAnyValue(simdjson::dom::element json, int max_depth,
                    opentelemetry::proto::common::v1::AnyValue* out);

// Sets *out from a compact JSON text (a stored payload): JsonToAnyValue, or when the text is not
// JSON or nests deeper than max_depth, a stringValue holding the text itself.
void PayloadToAnyValue(std::string_view json, int max_depth,
                       opentelemetry::proto::common::v1::AnyValue* out);

}  // namespace cistern::otlp
