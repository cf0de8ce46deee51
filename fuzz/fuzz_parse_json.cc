// libFuzzer target: the input is a JSON request body (BodyFormat::kJson) for ParseEvents.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>

#include "event/event.h"
#include "event/parse.h"
#include "parse_invariants.h"

namespace {

// Independent count of the events the body holds: the array's size, 1 for any other valid
// JSON document, -1 when the body is not valid JSON.
int64_t ExpectedEvents(const simdjson::padded_string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body).get(root) != simdjson::SUCCESS) return -1;
  if (!root.is_array()) return 1;
  return static_cast<int64_t>(root.get_array().value_unsafe().size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cistern;
  simdjson::padded_string body(reinterpret_cast<const char*>(data), size);
  const ParseLimits limits = fuzz::FuzzLimits();
  simdjson::dom::parser parser;
  EventBatch batch;
  batch.Add("stale", "stale", "", false, 1);  // ParseEvents must clear it
  int64_t error_index = -2;                   // ParseEvents must always set it
  Status s =
      ParseEvents(body, BodyFormat::kJson, limits, fuzz::kFuzzNowMs, parser, &batch, &error_index);
  int64_t expected = ExpectedEvents(body);
  // An empty array is an error, so its "0 events" count never makes a success valid.
  if (expected == 0) FUZZ_CHECK(!s.ok());
  fuzz::CheckParseResult(s, batch, error_index, limits, expected);
  // The array's size is checked before any event: too many events is always TooLarge.
  if (expected > static_cast<int64_t>(limits.max_events)) {
    FUZZ_CHECK(s.code() == Status::Code::kTooLarge);
  }
  return 0;
}
