#include "event/otlp/decode_common.h"

#include "event/otlp/any_value.h"

namespace cistern::otlp {

std::string FieldText(std::string_view text, size_t max_bytes) {
  if (text.size() > max_bytes) {
    size_t cut = max_bytes;
    // Back up over continuation bytes (10xxxxxx) so that no character is split.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut);
  }
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  }
  return out;
}

std::string DeviceIdOf(const opentelemetry::proto::resource::v1::Resource* resource,
                       const OtlpDecodeOptions& options, size_t max_field_bytes) {
  if (resource != nullptr) {
    for (const std::string& name : options.device_id_attributes) {
      for (const auto& attribute : resource->attributes()) {
        if (attribute.key() != name) continue;
        if (auto text = IdentifierText(attribute.value()); text) {
          std::string id = FieldText(*text, max_field_bytes);
          if (!id.empty()) return id;
        }
        break;  // keys are unique (OTLP spec); the first one decides
      }
    }
  }
  std::string fallback = FieldText(options.fallback_device_id, max_field_bytes);
  return fallback.empty() ? "unknown" : fallback;
}

Status TooManyRecords(size_t count, size_t limit, std::string_view noun) {
  return Status::TooLarge("too many " + std::string(noun) + " in one request: " +
                          std::to_string(count) + " (limit " + std::to_string(limit) + ")");
}

void EventCollector::Add(std::string_view device_id, std::string_view kind, int64_t ts,
                         std::string_view payload_json) {
  size_t index = index_++;
  if (payload_json.size() > limits_.max_payload_bytes) {
    out_->rejected.push_back(OtlpRejected{
        index,
        "record " + std::to_string(index) + ": payload is " + std::to_string(payload_json.size()) +
            " bytes, over the limit of " + std::to_string(limits_.max_payload_bytes),
        std::string(device_id), std::string(kind), ts, std::string(payload_json)});
    return;
  }
  out_->events.Add(device_id, kind, payload_json, /*has_payload=*/true, ts);
}

}  // namespace cistern::otlp

namespace cistern {

std::string OtlpRejectedMessage(const std::vector<OtlpRejected>& rejected, std::string_view noun) {
  if (rejected.empty()) return "";
  return std::to_string(rejected.size()) + " " + std::string(noun) +
         " rejected; first: " + rejected.front().reason;
}

}  // namespace cistern
