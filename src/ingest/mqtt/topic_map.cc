#include "ingest/mqtt/topic_map.h"

namespace cistern::mqtt {

Result<TopicMap> TopicMap::Parse(std::string_view templ) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("topic template '" + std::string(templ) + "': " + why);
  };
  if (templ.empty()) return bad("must not be empty");
  TopicMap map;
  map.text_ = std::string(templ);
  bool have_device = false, have_kind = false;
  size_t pos = 0;
  while (true) {
    size_t slash = templ.find('/', pos);
    std::string_view level =
        templ.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (level.find_first_of("+#") != std::string_view::npos) return bad("wildcards not allowed");
    if (level == "<device_id>") {
      if (have_device) return bad("<device_id> given twice");
      have_device = true;
      map.levels_.push_back({Kind::kDeviceId, {}});
    } else if (level == "<kind>") {
      if (have_kind) return bad("<kind> given twice");
      have_kind = true;
      map.levels_.push_back({Kind::kKind, {}});
    } else if (level.find_first_of("<>") != std::string_view::npos) {
      return bad("a placeholder must be a whole level, <device_id> or <kind>");
    } else {
      map.levels_.push_back({Kind::kLiteral, std::string(level)});
    }
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return map;
}

TopicFields TopicMap::Match(std::string_view topic) const {
  TopicFields out;
  size_t pos = 0;
  for (size_t i = 0; i < levels_.size(); ++i) {
    if (pos > topic.size()) return {};
    size_t slash = topic.find('/', pos);
    const bool last = i + 1 == levels_.size();
    // The last template level must take the rest of the topic, without another '/'.
    if (last != (slash == std::string_view::npos)) return {};
    std::string_view level =
        topic.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    switch (levels_[i].kind) {
      case Kind::kLiteral:
        if (level != levels_[i].literal) return {};
        break;
      case Kind::kDeviceId:
        if (level.empty()) return {};
        out.device_id = level;
        break;
      case Kind::kKind:
        if (level.empty()) return {};
        out.kind = level;
        break;
    }
    pos = slash == std::string_view::npos ? topic.size() + 1 : slash + 1;
  }
  return out;
}

}  // namespace cistern::mqtt
