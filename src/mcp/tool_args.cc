#include "mcp/tool_args.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace cistern::mcp {

Status CheckKnownArgs(std::string_view tool, simdjson::dom::object args,
                      std::initializer_list<std::string_view> known) {
  for (auto field : args) {
    if (std::find(known.begin(), known.end(), field.key) == known.end()) {
      return Status::InvalidArgument(
          fmt::format("invalid params: {} has no argument \"{}\"", tool, field.key));
    }
  }
  return Status::Ok();
}

Result<std::optional<std::string>> StringArg(std::string_view tool, simdjson::dom::object args,
                                             std::string_view key, bool required) {
  simdjson::dom::element e;
  if (args[key].get(e)) {
    if (!required) return std::optional<std::string>();
    return Status::InvalidArgument(
        fmt::format("invalid params: {} needs the string argument \"{}\"", tool, key));
  }
  std::string_view s;
  if (e.get(s)) {
    return Status::InvalidArgument(
        fmt::format("invalid params: {} argument \"{}\" must be a string", tool, key));
  }
  return std::optional<std::string>(std::string(s));
}

Result<std::optional<int64_t>> IntArg(std::string_view tool, simdjson::dom::object args,
                                      std::string_view key, int64_t min, int64_t max) {
  simdjson::dom::element e;
  if (args[key].get(e)) return std::optional<int64_t>();
  int64_t v = 0;
  double d = 0;
  bool is_int = !e.get(v);
  // Some clients send 10.0 for 10: accept a double only when it is a whole number.
  if (!is_int && !e.get(d) && std::trunc(d) == d && std::abs(d) < 9e15) {
    v = static_cast<int64_t>(d);
    is_int = true;
  }
  if (!is_int) {
    return Status::InvalidArgument(
        fmt::format("invalid params: {} argument \"{}\" must be an integer", tool, key));
  }
  if (v < min || v > max) {
    return Status::InvalidArgument(fmt::format(
        "invalid params: {} argument \"{}\" must be between {} and {}", tool, key, min, max));
  }
  return std::optional<int64_t>(v);
}

}  // namespace cistern::mcp
