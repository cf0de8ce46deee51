// Types and bounds shared by the OTLP codec (decode.h, encode.h, response.h). docs/otlp.md.
#pragma once

namespace cistern {

// How an OTLP/HTTP body is encoded. The caller decides from Content-Type:
// application/x-protobuf -> kProtobuf, application/json -> kJson (OTLP spec, "OTLP/HTTP").
enum class OtlpEncoding { kProtobuf, kJson };

// AnyValue nesting allowed anywhere in a request (a scalar is depth 1, a kvlist of scalars 2).
// Deeper: the whole request is refused (400). 30 keeps every path of the deepest message
// (an exemplar's attribute: 9 messages, then 3 per level) under kOtlpMaxMessageDepth, so the
// two encodings accept exactly the same requests.
inline constexpr int kOtlpMaxValueDepth = 30;

// Protobuf message nesting allowed while parsing; libprotobuf's JSON parser stops at the same
// depth, and the binary parser is given it explicitly.
inline constexpr int kOtlpMaxMessageDepth = 100;

}  // namespace cistern
