// libFuzzer target: the input is an NDJSON request body (BodyFormat::kNdjson) for ParseEvents.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "event/event.h"
#include "event/parse.h"
#include "parse_invariants.h"

namespace {

// Non-blank lines per the contract: lines split on \n, one trailing \r dropped, a line of
// only spaces and tabs is blank. Written independently of parse.cc's splitter.
int64_t NonBlankLines(std::string_view body) {
  int64_t n = 0;
  while (!body.empty()) {
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool blank = true;
    for (char c : line) blank = blank && (c == ' ' || c == '\t');
    if (!blank) ++n;
  }
  return n;
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
  Status s = ParseEvents(body, BodyFormat::kNdjson, limits, fuzz::kFuzzNowMs, parser, &batch,
                         &error_index);
  int64_t lines = NonBlankLines(std::string_view(body.data(), body.size()));
  if (lines == 0) FUZZ_CHECK(!s.ok());  // an empty body is an error
  fuzz::CheckParseResult(s, batch, error_index, limits, lines);
  return 0;
}
