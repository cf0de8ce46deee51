// TopicMap: an MQTT topic name -> the device id and kind it names, by the template of
// --mqtt-listen-topic (docs/mqtt.md). The placeholder syntax is the MQTT sink's
// (--mqtt-topic, docs/configuration.md): <device_id> and <kind>; here each must be a whole
// topic level and matches exactly one non-empty level, every other level is literal.
//   "devices/<device_id>/<kind>" matches "devices/dev-1/temp" -> {dev-1, temp}
// A topic that does not match yields empty fields: the payload must then carry its own.
// Immutable after Parse; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "event/parse.h"

namespace cistern::mqtt {

class TopicMap {
 public:
  // InvalidArgument for an empty template, a placeholder that is not a whole level, an
  // unknown placeholder, one given twice, or MQTT wildcards ('+', '#').
  static Result<TopicMap> Parse(std::string_view templ);

  // The fields `topic` names; both empty when it does not match. The views point into `topic`.
  TopicFields Match(std::string_view topic) const;

  const std::string& text() const { return text_; }

 private:
  enum class Kind { kLiteral, kDeviceId, kKind };
  struct Level {
    Kind kind;
    std::string literal;
  };
  std::string text_;
  std::vector<Level> levels_;
};

}  // namespace cistern::mqtt
