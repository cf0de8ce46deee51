// The pure parts of the HTTP load, kept apart from sockets so they can be tested alone:
// target parsing, request bodies, the 200 answer's ids, and the Retry-After policy.
#pragma once

#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cistern::loadgen {

struct HttpTarget {
  std::string host;  // name or address; IPv6 without the brackets
  uint16_t port = 80;
  bool tls = false;  // https://
};

// Parses "http://HOST[:PORT][/]" or "https://HOST[:PORT][/]" (IPv6 as "[::1]:8080"; the
// port defaults to 80 / 443). Returns false and sets *error on anything else: another
// scheme, no host, a bad port, a path.
bool ParseHttpTarget(std::string_view text, HttpTarget* target, std::string* error);

// Builds realistic request bodies: device ids "sensor-0000".."sensor-NNNN" cycled in turn,
// a per-device sequence, temperature/humidity/battery readings, a note with a (JSON-escaped)
// quote in it, and every 17th event of kind "error" (with an error code). Events are stamped
// with the current unix time in ms. Not thread-safe: one factory per load run.
class EventFactory {
 public:
  // REQUIRES: devices >= 1.
  explicit EventFactory(int devices);

  // Replaces *body with `n` events: one JSON object when n == 1, a JSON array when n > 1.
  // REQUIRES: n >= 1.
  void Build(int n, std::string* body);

  uint64_t events_built() const { return next_event_; }

 private:
  void AppendEvent(std::string* body, int64_t now_ms);

  int devices_;
  uint64_t next_event_ = 0;
  std::vector<int64_t> seq_;  // next sequence number per device
  // Built once: {"device_id":"sensor-0007","kind":"  per device, and "note":"…\"…\""}}
  std::vector<std::string> device_prefix_;
  std::vector<std::string> notes_;
};

// Reads a 200 answer {"accepted":N,"ids":[...]}: appends the ids to *ids and returns true
// when N == expected and there are exactly N integer ids. Otherwise returns false, leaves
// *ids as it was and says why in *why.
bool ParseAck(simdjson::dom::parser& parser, std::string_view body, int expected,
              std::vector<int64_t>* ids, std::string* why);

// The wait before resending a request answered 503: the Retry-After seconds (delta-seconds
// form), 1 s when missing or unparsable (e.g. an HTTP date), capped at 5 s, at least 10 ms
// so a "Retry-After: 0" server is not hammered.
std::chrono::milliseconds RetryAfterDelay(std::string_view header);

}  // namespace cistern::loadgen
