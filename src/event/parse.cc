#include "event/parse.h"

#include <string>
#include <string_view>

namespace cistern {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::string JsonError(simdjson::error_code ec) {
  return std::string("invalid JSON: ") + simdjson::error_message(ec);
}

bool HasControlChar(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

Status RequiredString(element value, std::string_view name, const ParseLimits& limits,
                      std::string_view* out) {
  if (!value.is_string()) {
    return Status::InvalidArgument(std::string(name) + " must be a string");
  }
  std::string_view s = value.get_string().value_unsafe();
  if (s.empty()) return Status::InvalidArgument(std::string(name) + " must not be empty");
  if (s.size() > limits.max_field_bytes) {
    return Status::InvalidArgument(std::string(name) + " is longer than " +
                                   std::to_string(limits.max_field_bytes) + " bytes");
  }
  if (HasControlChar(s)) {
    return Status::InvalidArgument(std::string(name) + " must not contain control characters");
  }
  *out = s;
  return Status::Ok();
}

// ts is unix milliseconds within [2000-01-01, 9999-12-31] (docs/api.md, "Events"): a value
// outside is another unit, and storing it would put the event in 1970 or past the year 9999.
constexpr int64_t kMinTsMs = 946'684'800'000;      // 2000-01-01T00:00:00.000Z
constexpr int64_t kMaxTsMs = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z

Status CheckTimestampRange(int64_t v) {
  if (v >= kMinTsMs && v <= kMaxTsMs) return Status::Ok();
  auto in_range = [](int64_t ms) { return ms >= kMinTsMs && ms <= kMaxTsMs; };
  // The unit the number would be a date in, and what to send instead.
  const char* unit = nullptr;
  int64_t as_ms = 0;
  if (v < kMinTsMs && v <= INT64_MAX / 1000 && in_range(v * 1000)) {
    unit = "seconds";
    as_ms = v * 1000;
  } else if (v > kMaxTsMs && in_range(v / 1000)) {
    unit = "microseconds";
    as_ms = v / 1000;
  } else if (v > kMaxTsMs && in_range(v / 1'000'000)) {
    unit = "nanoseconds";
    as_ms = v / 1'000'000;
  }
  std::string message = "ts " + std::to_string(v) + " is " +
                        (v < kMinTsMs ? "before 2000" : "after 9999") +
                        " as unix milliseconds (the unit of ts)";
  if (unit != nullptr) {
    message += std::string("; it looks like ") + unit + ": send " + std::to_string(as_ms);
  }
  return Status::InvalidArgument(message);
}

Status Timestamp(element value, int64_t now_ms, int64_t* out) {
  switch (value.type()) {
    case element_type::NULL_VALUE:
      *out = now_ms;
      return Status::Ok();
    case element_type::INT64: {
      int64_t v = value.get_int64().value_unsafe();
      if (v < 0) return Status::InvalidArgument("ts must be a non-negative integer (unix ms)");
      if (v == 0) {
        *out = now_ms;
        return Status::Ok();
      }
      if (Status s = CheckTimestampRange(v); !s.ok()) return s;
      *out = v;
      return Status::Ok();
    }
    case element_type::UINT64:
      return Status::InvalidArgument("ts is out of range (unix ms must fit in 63 bits)");
    default:
      return Status::InvalidArgument("ts must be a non-negative integer (unix ms)");
  }
}

// Validates one event object and appends it to `out`. `scratch` holds the compacted payload.
// `topic` fills a missing device_id / kind when non-empty (MQTT ingest).
Status ParseOne(element el, const ParseLimits& limits, int64_t now_ms, std::string* scratch,
                EventBatch* out, const TopicFields& topic = {}) {
  if (!el.is_object()) return Status::InvalidArgument("event must be a JSON object");
  std::string_view device_id, kind;
  bool seen_device = false, seen_kind = false, seen_payload = false, seen_ts = false;
  bool has_payload = false;
  int64_t ts = now_ms;
  scratch->clear();
  // Keep the object in a named variable: iterating value_unsafe() of the temporary
  // simdjson_result would dangle.
  simdjson::dom::object object = el.get_object().value_unsafe();
  for (auto field : object) {
    std::string_view key = field.key;
    auto duplicate = [&](bool* seen) {
      if (*seen) return true;
      *seen = true;
      return false;
    };
    if (key == "device_id") {
      if (duplicate(&seen_device)) return Status::InvalidArgument("duplicate field device_id");
      if (Status s = RequiredString(field.value, "device_id", limits, &device_id); !s.ok()) {
        return s;
      }
    } else if (key == "kind") {
      if (duplicate(&seen_kind)) return Status::InvalidArgument("duplicate field kind");
      if (Status s = RequiredString(field.value, "kind", limits, &kind); !s.ok()) return s;
    } else if (key == "payload") {
      if (duplicate(&seen_payload)) return Status::InvalidArgument("duplicate field payload");
      if (!field.value.is_null()) {
        *scratch = simdjson::minify(field.value);
        if (scratch->size() > limits.max_payload_bytes) {
          return Status::InvalidArgument("payload is " + std::to_string(scratch->size()) +
                                         " bytes, over the limit of " +
                                         std::to_string(limits.max_payload_bytes));
        }
        has_payload = true;
      }
    } else if (key == "ts") {
      if (duplicate(&seen_ts)) return Status::InvalidArgument("duplicate field ts");
      if (Status s = Timestamp(field.value, now_ms, &ts); !s.ok()) return s;
    }
  }
  if (!seen_device && !topic.device_id.empty()) {
    device_id = topic.device_id;
    seen_device = true;
  }
  if (!seen_kind && !topic.kind.empty()) {
    kind = topic.kind;
    seen_kind = true;
  }
  if (!seen_device) return Status::InvalidArgument("missing required field device_id");
  if (!seen_kind) return Status::InvalidArgument("missing required field kind");
  out->Add(device_id, kind, *scratch, has_payload, ts);
  return Status::Ok();
}

Status TooMany(const ParseLimits& limits) {
  return Status::TooLarge("too many events in one request (limit " +
                          std::to_string(limits.max_events) + ")");
}

Status ParseJson(simdjson::padded_string_view body, const ParseLimits& limits, int64_t now_ms,
                 simdjson::dom::parser& parser, EventBatch* out, int64_t* error_index) {
  element root;
  if (auto ec = parser.parse(body.data(), body.size(), false).get(root); ec) {
    return Status::InvalidArgument(JsonError(ec));
  }
  std::string scratch;
  if (root.is_array()) {
    simdjson::dom::array events = root.get_array().value_unsafe();
    size_t n = events.size();
    if (n == 0) return Status::InvalidArgument("empty batch: the array holds no events");
    if (n > limits.max_events) return TooMany(limits);
    out->Reserve(n, body.size());
    int64_t i = 0;
    for (element el : events) {
      if (Status s = ParseOne(el, limits, now_ms, &scratch, out); !s.ok()) {
        *error_index = i;
        return s;
      }
      ++i;
    }
    return Status::Ok();
  }
  if (Status s = ParseOne(root, limits, now_ms, &scratch, out); !s.ok()) {
    *error_index = 0;
    return s;
  }
  return Status::Ok();
}

Status ParseNdjson(simdjson::padded_string_view body, const ParseLimits& limits, int64_t now_ms,
                   simdjson::dom::parser& parser, EventBatch* out, int64_t* error_index) {
  std::string scratch;
  const char* base = body.data();
  size_t pos = 0;
  int64_t index = 0;
  out->Reserve(16, body.size());
  while (pos < body.size()) {
    size_t nl = std::string_view(base + pos, body.size() - pos).find('\n');
    size_t end = nl == std::string_view::npos ? body.size() : pos + nl;
    std::string_view line(base + pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank line
    if (static_cast<size_t>(index) >= limits.max_events) return TooMany(limits);
    // The bytes after `line` (the rest of the body, then the padding) are readable, which is
    // all the padding contract asks, so each line parses in place without a copy.
    element root;
    if (auto ec = parser.parse(line.data(), line.size(), false).get(root); ec) {
      *error_index = index;
      return Status::InvalidArgument(JsonError(ec));
    }
    if (Status s = ParseOne(root, limits, now_ms, &scratch, out); !s.ok()) {
      *error_index = index;
      return s;
    }
    ++index;
  }
  if (index == 0) return Status::InvalidArgument("empty body: no events");
  return Status::Ok();
}

// Two or more non-blank lines, the first of them a JSON object on its own: what an NDJSON
// body sent without its Content-Type looks like.
bool LooksLikeNdjson(simdjson::padded_string_view body, simdjson::dom::parser& parser) {
  std::string_view text(body.data(), body.size());
  std::string_view first;
  int lines = 0;
  for (size_t pos = 0; pos < text.size() && lines < 2;) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (lines++ == 0) first = line;
  }
  if (lines < 2) return false;
  element root;
  // `first` is followed by the rest of the body and its padding: readable, as parse() needs.
  return !parser.parse(first.data(), first.size(), false).get(root) && root.is_object();
}

bool IsEventObject(element el) {
  if (!el.is_object()) return false;
  simdjson::dom::object object = el.get_object().value_unsafe();
  for (auto field : object) {
    if (field.key == "device_id") return true;
  }
  return false;
}

// One MQTT JSON value: an event object, an array of them, or anything else as the payload.
Status MqttValue(element root, const TopicFields& topic, const ParseLimits& limits, int64_t now_ms,
                 std::string* scratch, EventBatch* out) {
  if (IsEventObject(root)) return ParseOne(root, limits, now_ms, scratch, out, topic);
  if (root.is_array()) {
    simdjson::dom::array events = root.get_array().value_unsafe();
    bool all_events = events.size() > 0;
    for (element el : events) all_events = all_events && IsEventObject(el);
    if (all_events) {
      if (events.size() + out->size() > limits.max_events) return TooMany(limits);
      for (element el : events) {
        if (Status s = ParseOne(el, limits, now_ms, scratch, out, topic); !s.ok()) return s;
      }
      return Status::Ok();
    }
  }
  if (topic.device_id.empty() || topic.kind.empty()) {
    return Status::InvalidArgument(
        "not an event (no device_id) and the topic does not match the topic template");
  }
  if (out->size() >= limits.max_events) return TooMany(limits);
  *scratch = simdjson::minify(root);
  if (scratch->size() > limits.max_payload_bytes) {
    return Status::InvalidArgument("payload is " + std::to_string(scratch->size()) +
                                   " bytes, over the limit of " +
                                   std::to_string(limits.max_payload_bytes));
  }
  const bool has_payload = !root.is_null();
  out->Add(topic.device_id, topic.kind, has_payload ? *scratch : std::string_view(), has_payload,
           now_ms);
  return Status::Ok();
}

}  // namespace

Status ParseMqttPayload(simdjson::padded_string_view body, const TopicFields& topic,
                        const ParseLimits& limits, int64_t now_ms, simdjson::dom::parser& parser,
                        EventBatch* out, bool* not_json) {
  out->Clear();
  *not_json = false;
  std::string scratch;
  element root;
  if (auto ec = parser.parse(body.data(), body.size(), false).get(root); !ec) {
    Status s = MqttValue(root, topic, limits, now_ms, &scratch, out);
    if (!s.ok()) out->Clear();
    return s;
  }
  // NDJSON: every non-blank line one JSON value (parsed in place, as in ParseNdjson).
  const char* base = body.data();
  size_t pos = 0;
  Status status = Status::Ok();
  while (pos < body.size()) {
    size_t nl = std::string_view(base + pos, body.size() - pos).find('\n');
    size_t end = nl == std::string_view::npos ? body.size() : pos + nl;
    std::string_view line(base + pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (auto ec = parser.parse(line.data(), line.size(), false).get(root); ec) {
      *not_json = true;
      out->Clear();
      return Status::InvalidArgument("payload is not JSON: " + JsonError(ec));
    }
    if (status.ok()) status = MqttValue(root, topic, limits, now_ms, &scratch, out);
  }
  if (status.ok() && out->empty()) {
    *not_json = true;
    status = Status::InvalidArgument("payload is empty");
  }
  if (!status.ok()) out->Clear();
  return status;
}

Status ParseEvents(simdjson::padded_string_view body, BodyFormat format, const ParseLimits& limits,
                   int64_t now_ms, simdjson::dom::parser& parser, EventBatch* out,
                   int64_t* error_index) {
  out->Clear();
  *error_index = -1;
  Status s = format == BodyFormat::kNdjson
                 ? ParseNdjson(body, limits, now_ms, parser, out, error_index)
                 : ParseJson(body, limits, now_ms, parser, out, error_index);
  if (!s.ok()) out->Clear();
  // Only on the error path, so an accepted request pays nothing for the hint.
  if (!s.ok() && format == BodyFormat::kJson && *error_index == -1 &&
      s.code() == Status::Code::kInvalidArgument && LooksLikeNdjson(body, parser)) {
    return Status::InvalidArgument(s.message() +
                                   "; the body looks like NDJSON (one event per line): send "
                                   "Content-Type: application/x-ndjson");
  }
  return s;
}

}  // namespace cistern
