#include "event/otlp/any_value.h"

namespace cistern::otlp {
namespace {

using opentelemetry::proto::common::v1::AnyValue;
using simdjson::dom::element;
using simdjson::dom::element_type;

bool Convert(element json, int depth_left, AnyValue* out) {
  if (depth_left < 1) return false;
  switch (json.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object object = json.get_object().value_unsafe();
      auto* list = out->mutable_kvlist_value();
      for (auto field : object) {
        auto* kv = list->add_values();
        kv->set_key(std::string(field.key));
        if (!Convert(field.value, depth_left - 1, kv->mutable_value())) return false;
      }
      return true;
    }
    case element_type::ARRAY: {
      simdjson::dom::array array = json.get_array().value_unsafe();
      auto* list = out->mutable_array_value();
      for (element item : array) {
        if (!Convert(item, depth_left - 1, list->add_values())) return false;
      }
      return true;
    }
    case element_type::STRING:
      out->set_string_value(std::string(json.get_string().value_unsafe()));
      return true;
    case element_type::INT64:
      out->set_int_value(json.get_int64().value_unsafe());
      return true;
    case element_type::UINT64:  // above int64's range: OTLP has no unsigned integer
      out->set_double_value(static_cast<double>(json.get_uint64().value_unsafe()));
      return true;
    case element_type::DOUBLE:
      out->set_double_value(json.get_double().value_unsafe());
      return true;
    case element_type::BOOL:
      out->set_bool_value(json.get_bool().value_unsafe());
      return true;
    case element_type::NULL_VALUE:
      out->Clear();
      return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> IdentifierText(const AnyValue& v) {
  switch (v.value_case()) {
    case AnyValue::kStringValue:
      if (v.string_value().empty()) return std::nullopt;
      return v.string_value();
    case AnyValue::kIntValue:
      return std::to_string(v.int_value());
    default:
      return std::nullopt;
  }
}

bool JsonToAnyValue(element json, int max_depth, AnyValue* out) {
  out->Clear();
  return Convert(json, max_depth, out);
}

void PayloadToAnyValue(std::string_view json, int max_depth, AnyValue* out) {
  simdjson::padded_string padded(json);
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(padded).get(root) == simdjson::SUCCESS && JsonToAnyValue(root, max_depth, out)) {
    return;
  }
  out->Clear();
  out->set_string_value(std::string(json));
}

}  // namespace cistern::otlp
