// libFuzzer target: OTLP/HTTP request bodies through DecodeOtlpLogs / DecodeOtlpMetrics
// (src/event/otlp/decode.h). The first byte picks the signal and encoding (bit 0: JSON,
// bit 1: metrics); the rest is the body. Invariants checked on every input:
//  - a refused request is InvalidArgument or TooLarge with a message;
//  - every event is a valid Cistern event: device_id and kind non-empty, within the field
//    limit, no control characters; ts > 0; a payload within the limit that is an OTLP envelope;
//  - records kept + rejected never exceed max_records; a rejected payload is over the limit;
//  - re-exporting the events (EncodeOtlpExport, both encodings) and decoding that again gives
//    the same events (as a multiset: grouping by resource and scope may reorder them).
#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/status.h"
#include "event/otlp/decode.h"
#include "event/otlp/encode.h"
#include "parse_invariants.h"

namespace {

using namespace cistern;

using EventTuple = std::tuple<std::string, std::string, int64_t, std::string>;

OtlpLimits Limits() {
  OtlpLimits limits;
  limits.max_records = 64;
  limits.max_payload_bytes = 4096;
  limits.max_field_bytes = 64;
  return limits;
}

Result<OtlpDecoded> Decode(bool metrics, std::string_view body, OtlpEncoding encoding) {
  return metrics ? DecodeOtlpMetrics(body, encoding, Limits(), fuzz::kFuzzNowMs)
                 : DecodeOtlpLogs(body, encoding, Limits(), fuzz::kFuzzNowMs);
}

std::vector<EventTuple> Sorted(const EventBatch& events) {
  std::vector<EventTuple> out;
  for (size_t i = 0; i < events.size(); ++i) {
    EventView e = events[i];
    out.emplace_back(std::string(e.device_id), std::string(e.kind), e.ts,
                     std::string(e.payload_json));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void CheckEvents(const OtlpDecoded& d, bool metrics) {
  const OtlpLimits limits = Limits();
  FUZZ_CHECK(d.events.size() + d.rejected.size() <= limits.max_records);
  const std::string_view envelope = metrics ? R"({"otlp":"metric",)" : R"({"otlp":"log",)";
  simdjson::dom::parser parser;
  for (size_t i = 0; i < d.events.size(); ++i) {
    EventView e = d.events[i];
    ParseLimits field_limits;
    field_limits.max_field_bytes = limits.max_field_bytes;
    fuzz::CheckField(e.device_id, field_limits);
    fuzz::CheckField(e.kind, field_limits);
    FUZZ_CHECK(e.ts > 0);
    FUZZ_CHECK(e.has_payload);
    FUZZ_CHECK(e.payload_json.size() <= limits.max_payload_bytes);
    FUZZ_CHECK(e.payload_json.substr(0, envelope.size()) == envelope);
    simdjson::padded_string copy(e.payload_json);
    simdjson::dom::element root;
    FUZZ_CHECK(parser.parse(copy).get(root) == simdjson::SUCCESS);
  }
  for (const OtlpRejected& r : d.rejected) {
    FUZZ_CHECK(r.payload_json.size() > limits.max_payload_bytes);
    FUZZ_CHECK(!r.reason.empty());
  }
}

void CheckReexport(const OtlpDecoded& d, bool metrics) {
  std::vector<OtlpStoredEvent> stored;
  for (size_t i = 0; i < d.events.size(); ++i) {
    EventView e = d.events[i];
    stored.push_back(
        {static_cast<int64_t>(i + 1), e.device_id, e.kind, e.payload_json, e.has_payload, e.ts});
  }
  const std::vector<EventTuple> expected = Sorted(d.events);
  for (OtlpEncoding encoding : {OtlpEncoding::kProtobuf, OtlpEncoding::kJson}) {
    Result<OtlpExport> e = EncodeOtlpExport(stored, "fuzz-node", encoding);
    FUZZ_CHECK(e.ok());
    FUZZ_CHECK((metrics ? e->data_points : e->log_records) == d.events.size());
    FUZZ_CHECK((metrics ? e->log_records : e->data_points) == 0);
    const std::string& body = metrics ? e->metrics_body : e->logs_body;
    if (d.events.empty()) {  // nothing to export: no body at all
      FUZZ_CHECK(body.empty());
      continue;
    }
    Result<OtlpDecoded> again = Decode(metrics, body, encoding);
    if (!again.ok()) fuzz::Broken(again.status().message().c_str());
    FUZZ_CHECK(again->rejected.empty());
    FUZZ_CHECK(Sorted(again->events) == expected);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool json = data[0] & 1;
  const bool metrics = data[0] & 2;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const OtlpEncoding encoding = json ? OtlpEncoding::kJson : OtlpEncoding::kProtobuf;
  Result<OtlpDecoded> d = Decode(metrics, body, encoding);
  if (!d.ok()) {
    FUZZ_CHECK(d.status().code() == Status::Code::kInvalidArgument ||
               d.status().code() == Status::Code::kTooLarge);
    FUZZ_CHECK(!d.status().message().empty());
    return 0;
  }
  CheckEvents(*d, metrics);
  CheckReexport(*d, metrics);
  return 0;
}
