#include "event/otlp/payload.h"

#include <simdjson.h>

#include "common/json_writer.h"
#include "event/otlp/otlp_json.h"
#include "event/otlp/otlp_types.h"

namespace cistern::otlp {

void PayloadPrefix(Signal signal, const opentelemetry::proto::resource::v1::Resource* resource,
                   std::string_view resource_schema_url,
                   const opentelemetry::proto::common::v1::InstrumentationScope* scope,
                   std::string_view scope_schema_url, std::string* out) {
  out->assign(signal == Signal::kLog ? R"({"otlp":"log")" : R"({"otlp":"metric")");
  if (resource != nullptr) {
    *out += R"(,"resource":)";
    AppendOtlpJson(*resource, out);
  }
  if (!resource_schema_url.empty()) {
    *out += R"(,"resourceSchemaUrl":)";
    AppendJsonString(out, resource_schema_url);
  }
  if (scope != nullptr) {
    *out += R"(,"scope":)";
    AppendOtlpJson(*scope, out);
  }
  if (!scope_schema_url.empty()) {
    *out += R"(,"scopeSchemaUrl":)";
    AppendJsonString(out, scope_schema_url);
  }
  *out += signal == Signal::kLog ? R"(,"record":)" : R"(,"metric":)";
}

bool ParseStoredOtlp(std::string_view payload_json, StoredOtlp* out) {
  simdjson::padded_string padded(payload_json);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS || !root.is_object()) return false;
  simdjson::dom::object object = root.get_object().value_unsafe();
  std::string_view signal;
  if (object["otlp"].get_string().get(signal) != simdjson::SUCCESS) return false;
  if (signal == "log") {
    out->signal = Signal::kLog;
  } else if (signal == "metric") {
    out->signal = Signal::kMetric;
  } else {
    return false;
  }
  auto part = [&](std::string_view key, google::protobuf::Message* message, bool* present) {
    simdjson::dom::element el;
    if (object[key].get(el) != simdjson::SUCCESS) {
      message->Clear();
      if (present != nullptr) *present = false;
      return present != nullptr;  // only resource and scope may be absent
    }
    if (present != nullptr) *present = true;
    return ParseOtlpJsonElement(el, kOtlpMaxValueDepth, message).ok();
  };
  auto text = [&](std::string_view key, std::string* value) {
    std::string_view s;
    auto result = object[key];
    if (result.error() == simdjson::NO_SUCH_FIELD) {
      value->clear();
      return true;
    }
    if (result.get_string().get(s) != simdjson::SUCCESS) return false;
    value->assign(s);
    return true;
  };
  bool ok = part("resource", &out->resource, &out->has_resource) &&
            text("resourceSchemaUrl", &out->resource_schema_url) &&
            part("scope", &out->scope, &out->has_scope) &&
            text("scopeSchemaUrl", &out->scope_schema_url);
  if (!ok) return false;
  if (out->signal == Signal::kLog) {
    out->metric.Clear();
    return part("record", &out->record, nullptr);
  }
  out->record.Clear();
  return part("metric", &out->metric, nullptr);
}

}  // namespace cistern::otlp
