// Invariants every ParseEvents result must satisfy, whatever the input (src/event/parse.h).
// Shared by fuzz_parse_json and fuzz_parse_ndjson. A broken invariant is a bug in parse.cc,
// so it traps: libFuzzer then saves the input as a crash-* file.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <string_view>

#include "common/status.h"
#include "event/event.h"
#include "event/parse.h"

namespace cistern::fuzz {

// Small limits so that the fuzzer reaches every limit with short inputs.
inline ParseLimits FuzzLimits() {
  ParseLimits limits;
  limits.max_events = 64;
  limits.max_payload_bytes = 4096;
  limits.max_field_bytes = 64;
  return limits;
}

inline constexpr int64_t kFuzzNowMs = 1'700'000'000'000;

// Prints which invariant broke (libFuzzer shows stderr with the crash) and traps.
[[noreturn]] inline void Broken(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  __builtin_trap();
}
#define FUZZ_CHECK(cond)                         \
  do {                                           \
    if (!(cond)) ::cistern::fuzz::Broken(#cond); \
  } while (0)

inline bool HasControlChar(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

inline void CheckField(std::string_view s, const ParseLimits& limits) {
  FUZZ_CHECK(!s.empty());
  FUZZ_CHECK(s.size() <= limits.max_field_bytes);
  FUZZ_CHECK(!HasControlChar(s));
}

// Checks the outcome of one ParseEvents call. `expected_events` is the number of events the
// request holds according to an independent count (array size / non-blank lines), or -1 when
// that count is unknown (the body is not valid JSON at the top level).
inline void CheckParseResult(const Status& status, const EventBatch& batch, int64_t error_index,
                             const ParseLimits& limits, int64_t expected_events) {
  if (status.ok()) {
    FUZZ_CHECK(!batch.empty());
    FUZZ_CHECK(batch.size() <= limits.max_events);
    FUZZ_CHECK(error_index == -1);
    if (expected_events >= 0) {
      FUZZ_CHECK(static_cast<int64_t>(batch.size()) == expected_events);
    }
    simdjson::dom::parser payload_parser;
    for (size_t i = 0; i < batch.size(); ++i) {
      EventView e = batch[i];
      CheckField(e.device_id, limits);
      CheckField(e.kind, limits);
      FUZZ_CHECK(e.ts > 0);
      if (e.has_payload) {
        FUZZ_CHECK(!e.payload_json.empty());
        FUZZ_CHECK(e.payload_json.size() <= limits.max_payload_bytes);
        // The payload is stored as JSON: it must parse again, and must not be null (null
        // means "no payload", stored as SQL NULL).
        simdjson::padded_string copy(e.payload_json);
        simdjson::dom::element root;
        FUZZ_CHECK(payload_parser.parse(copy).get(root) == simdjson::SUCCESS);
        FUZZ_CHECK(!root.is_null());
      } else {
        FUZZ_CHECK(e.payload_json.empty());
      }
    }
    return;
  }
  // Failure: nothing returned, a client error code, and an index that names a real event.
  FUZZ_CHECK(batch.empty());
  FUZZ_CHECK(status.code() == Status::Code::kInvalidArgument ||
             status.code() == Status::Code::kTooLarge);
  FUZZ_CHECK(!status.message().empty());
  FUZZ_CHECK(error_index >= -1);
  if (expected_events >= 0) {
    FUZZ_CHECK(error_index < expected_events);
    // TooLarge means "more events than max_events". The converse holds only where the count
    // is checked before the events are (a JSON array): NDJSON validates line by line, so a bad
    // line before the limit is reached is reported first.
    if (status.code() == Status::Code::kTooLarge) {
      FUZZ_CHECK(expected_events > static_cast<int64_t>(limits.max_events));
    }
  } else {
    FUZZ_CHECK(status.code() == Status::Code::kInvalidArgument);
  }
}

}  // namespace cistern::fuzz
