#include "tools/loadgen/http_events.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "common/json_writer.h"

namespace cistern::loadgen {

namespace {

bool ParsePort(std::string_view s, uint16_t* port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || value == 0 || value > 65535) {
    return false;
  }
  *port = static_cast<uint16_t>(value);
  return true;
}

// splitmix64: cheap, deterministic pseudo-random readings.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Appends an integer.
void AppendInt(std::string* out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}

// Appends units / 10^decimals with exactly `decimals` digits after the point (no floats:
// the generator must stay cheap next to the collector it loads).
void AppendFixed(std::string* out, uint64_t units, int decimals) {
  uint64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  AppendInt(out, units / scale);
  out->push_back('.');
  uint64_t frac = units % scale;
  for (uint64_t s = scale / 10; s > 0; s /= 10) {
    out->push_back(static_cast<char>('0' + frac / s));
    frac %= s;
  }
}

constexpr std::string_view kNotes[] = {
    R"(door "A" closed)",
    R"(reading from the "north" wing)",
    R"(sensor said "ok")",
    R"(calibrated: "factory" profile)",
};

}  // namespace

bool ParseHttpTarget(std::string_view text, HttpTarget* target, std::string* error) {
  auto fail = [&](std::string why) {
    *error = "bad target \"" + std::string(text) + "\": " + why +
             " (expected http://HOST:PORT or https://HOST:PORT, e.g. http://127.0.0.1:8080)";
    return false;
  };
  const bool tls = text.starts_with("https://");
  if (!tls && !text.starts_with("http://")) return fail("only http:// and https:// are supported");
  std::string_view rest = text.substr(tls ? 8 : 7);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) return fail("a path is not allowed");
  std::string_view host, port;
  if (!rest.empty() && rest.front() == '[') {  // [v6]:port
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return fail("unclosed '['");
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("junk after ']'");
      port = after.substr(1);
      if (port.empty()) return fail("empty port");
    }
  } else {
    size_t colon = rest.rfind(':');
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      if (port.empty()) return fail("empty port");
    }
    if (host.find(':') != std::string_view::npos) return fail("IPv6 needs brackets");
  }
  if (host.empty()) return fail("no host");
  if (host.find_first_of(" @?#") != std::string_view::npos) return fail("bad host");
  HttpTarget t;
  t.host = std::string(host);
  t.tls = tls;
  t.port = tls ? 443 : 80;
  if (!port.empty() && !ParsePort(port, &t.port)) return fail("bad port");
  *target = std::move(t);
  return true;
}

EventFactory::EventFactory(int devices) : devices_(std::max(devices, 1)), seq_(devices_, 0) {
  for (int d = 0; d < devices_; ++d) {
    device_prefix_.push_back(fmt::format(R"({{"device_id":"sensor-{:04}","kind":")", d));
  }
  for (std::string_view note : kNotes) {
    std::string escaped = R"("note":)";
    AppendJsonString(&escaped, note);
    notes_.push_back(escaped + "}}");
  }
}

void EventFactory::Build(int n, std::string* body) {
  body->clear();
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  if (n == 1) {
    AppendEvent(body, now_ms);
    return;
  }
  body->push_back('[');
  for (int i = 0; i < n; ++i) {
    if (i) body->push_back(',');
    AppendEvent(body, now_ms);
  }
  body->push_back(']');
}

void EventFactory::AppendEvent(std::string* body, int64_t now_ms) {
  const uint64_t n = next_event_++;
  const size_t device = n % static_cast<uint64_t>(devices_);
  const int64_t seq = seq_[device]++;
  const uint64_t r = Mix(n);
  const bool error = (n + 1) % 17 == 0;
  body->append(device_prefix_[device]);
  body->append(error ? R"(error","ts":)" : R"(telemetry","ts":)");
  AppendInt(body, static_cast<uint64_t>(now_ms));
  body->append(R"(,"payload":{"seq":)");
  AppendInt(body, static_cast<uint64_t>(seq));
  body->append(R"(,"temp_c":)");
  AppendFixed(body, 1500 + r % 1500, 2);  // 15.00 .. 29.99
  body->append(R"(,"humidity_pct":)");
  AppendFixed(body, 300 + (r >> 16) % 500, 1);  // 30.0 .. 79.9
  body->append(R"(,"battery_v":)");
  AppendFixed(body, 330 + (r >> 32) % 90, 2);  // 3.30 .. 4.19
  if (error) {
    body->append(R"(,"code":"E)");
    const uint64_t code = (r >> 40) % 20;
    body->push_back(static_cast<char>('0' + code / 10));
    body->push_back(static_cast<char>('0' + code % 10));
    body->push_back('"');
  }
  body->push_back(',');
  body->append(notes_[(r >> 48) % notes_.size()]);
}

bool ParseAck(simdjson::dom::parser& parser, std::string_view body, int expected,
              std::vector<int64_t>* ids, std::string* why) {
  simdjson::dom::element doc;
  int64_t accepted = 0;
  simdjson::dom::array arr;
  if (parser.parse(body.data(), body.size()).get(doc) || doc["accepted"].get(accepted) ||
      doc["ids"].get(arr)) {
    *why = "200 without {\"accepted\":N,\"ids\":[...]}";
    return false;
  }
  if (accepted != expected || arr.size() != static_cast<size_t>(expected)) {
    *why = fmt::format("200 acknowledged {} of {} events ({} ids)", accepted, expected, arr.size());
    return false;
  }
  const size_t before = ids->size();
  for (simdjson::dom::element v : arr) {
    int64_t id = 0;
    if (v.get(id)) {
      ids->resize(before);
      *why = "200 with a non-integer id";
      return false;
    }
    ids->push_back(id);
  }
  return true;
}

std::chrono::milliseconds RetryAfterDelay(std::string_view header) {
  using std::chrono::milliseconds;
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  unsigned seconds = 0;
  auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), seconds);
  if (ec == std::errc::result_out_of_range) return milliseconds(5000);
  if (header.empty() || ec != std::errc() || end != header.data() + header.size()) {
    return milliseconds(1000);
  }
  return std::clamp(milliseconds(int64_t{seconds} * 1000), milliseconds(10), milliseconds(5000));
}

}  // namespace cistern::loadgen
