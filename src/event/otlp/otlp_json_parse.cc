// OTLP/JSON parsing (otlp_json.h): an OTLP-aware rewrite, then libprotobuf's JSON parser.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/stubs/strutil.h>
#include <google/protobuf/util/json_util.h>

#include <cstdint>
#include <vector>

#include "cistern/otlp/common.pb.h"
#include "common/json_writer.h"
#include "event/otlp/otlp_json.h"
#include "event/otlp/otlp_json_util.h"

namespace cistern::otlp {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using json_detail::AppendDouble;
using json_detail::AppendNumber;
using json_detail::HexToBytes;
using json_detail::IsIdField;
using simdjson::dom::element;
using simdjson::dom::element_type;

std::string JsonError(simdjson::error_code ec) {
  if (ec == simdjson::DEPTH_ERROR) {
    return "invalid JSON: nested more than " + std::to_string(simdjson::DEFAULT_MAX_DEPTH) +
           " levels deep";
  }
  return std::string("invalid JSON: ") + simdjson::error_message(ec);
}

// Rewrites an OTLP/JSON document into the standard protobuf JSON mapping that libprotobuf's
// parser reads, guided by the message descriptor: keys that name no field are dropped (OTLP
// receivers ignore unknown fields), known keys are written with their lowerCamelCase name, hex
// ids become base64, enum names become numbers, and AnyValue nesting is counted. Values whose
// JSON shape does not fit the field are copied as they are, so that libprotobuf reports them.
class Transcoder {
 public:
  Transcoder(int max_value_depth, std::string* out)
      : max_value_depth_(max_value_depth), out_(out) {}

  Status Object(element el, const Descriptor* d, int value_depth) {
    if (d == opentelemetry::proto::common::v1::AnyValue::descriptor() &&
        ++value_depth > max_value_depth_) {
      return Error("AnyValue nested deeper than " + std::to_string(max_value_depth_) + " levels");
    }
    simdjson::dom::object object = el.get_object().value_unsafe();
    *out_ += '{';
    bool first = true;
    for (auto field : object) {
      std::string key(field.key);
      const FieldDescriptor* f = d->FindFieldByCamelcaseName(key);
      if (f == nullptr) f = d->FindFieldByName(key);
      if (f == nullptr) continue;
      if (!first) *out_ += ',';
      first = false;
      AppendJsonString(out_, f->json_name());
      *out_ += ':';
      path_.push_back({field.key, -1});
      if (Status s = Field(field.value, f, value_depth); !s.ok()) return s;
      path_.pop_back();
    }
    *out_ += '}';
    return Status::Ok();
  }

 private:
  struct Frame {
    std::string_view key;
    int64_t index;  // -1: not an array element
  };

  Status Field(element v, const FieldDescriptor* f, int value_depth) {
    if (!f->is_repeated() || v.is_null()) return Value(v, f, value_depth);
    // libprotobuf would take a lone value as a list of one; the JSON mapping says array.
    if (!v.is_array()) return Error("must be an array");
    simdjson::dom::array items = v.get_array().value_unsafe();
    *out_ += '[';
    int64_t i = 0;
    for (element item : items) {
      if (i > 0) *out_ += ',';
      path_.back().index = i++;
      if (Status s = Value(item, f, value_depth); !s.ok()) return s;
    }
    *out_ += ']';
    return Status::Ok();
  }

  Status Value(element v, const FieldDescriptor* f, int value_depth) {
    if (f->type() == FieldDescriptor::TYPE_MESSAGE && v.is_object()) {
      return Object(v, f->message_type(), value_depth);
    }
    if (IsIdField(f) && v.is_string()) return Id(v.get_string().value_unsafe());
    if (f->type() == FieldDescriptor::TYPE_ENUM && v.is_string()) {
      return EnumName(v.get_string().value_unsafe(), f);
    }
    Scalar(v);
    return Status::Ok();
  }

  // OTLP/JSON enums are integers; names are accepted here and written as their numbers,
  // because libprotobuf, told to ignore unknown fields, would silently drop an unknown name.
  Status EnumName(std::string_view name, const FieldDescriptor* f) {
    const google::protobuf::EnumValueDescriptor* value =
        f->enum_type()->FindValueByName(std::string(name));
    if (value == nullptr) return Error("unknown " + f->enum_type()->name() + " name");
    AppendNumber(value->number(), out_);
    return Status::Ok();
  }

  Status Id(std::string_view hex) {
    std::string bytes, base64;
    if (!HexToBytes(hex, &bytes)) {
      return Error("not a hex string (OTLP/JSON writes trace and span ids in hex)");
    }
    google::protobuf::Base64Escape(bytes, &base64);
    AppendJsonString(out_, base64);
    return Status::Ok();
  }

  void Scalar(element v) {
    switch (v.type()) {
      case element_type::STRING:
        AppendJsonString(out_, v.get_string().value_unsafe());
        break;
      case element_type::INT64:
        AppendNumber(v.get_int64().value_unsafe(), out_);
        break;
      case element_type::UINT64:
        AppendNumber(v.get_uint64().value_unsafe(), out_);
        break;
      case element_type::DOUBLE:
        AppendDouble(v.get_double().value_unsafe(), out_);
        break;
      case element_type::BOOL:
        *out_ += v.get_bool().value_unsafe() ? "true" : "false";
        break;
      case element_type::NULL_VALUE:
        *out_ += "null";
        break;
      default:  // an array or object where the field wants something else
        *out_ += simdjson::minify(v);
    }
  }

  Status Error(const std::string& what) const {
    std::string path;
    for (const Frame& f : path_) {
      if (!path.empty()) path += '.';
      path += f.key;
      if (f.index >= 0) path += "[" + std::to_string(f.index) + "]";
    }
    return Status::InvalidArgument("invalid OTLP/JSON: " + (path.empty() ? "" : path + ": ") +
                                   what);
  }

  int max_value_depth_;
  std::string* out_;
  std::vector<Frame> path_;
};

}  // namespace

Status ParseOtlpJsonElement(element json, int max_value_depth, google::protobuf::Message* message) {
  message->Clear();
  if (!json.is_object()) {
    return Status::InvalidArgument("invalid OTLP/JSON: the document must be a JSON object");
  }
  std::string text;
  Transcoder transcoder(max_value_depth, &text);
  if (Status s = transcoder.Object(json, message->GetDescriptor(), 0); !s.ok()) return s;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto st = google::protobuf::util::JsonStringToMessage(text, message, options);
  if (!st.ok()) {
    return Status::InvalidArgument("invalid OTLP/JSON: " +
                                   std::string(st.message().data(), st.message().size()));
  }
  return Status::Ok();
}

Status ParseOtlpJson(std::string_view json, int max_value_depth,
                     google::protobuf::Message* message) {
  simdjson::padded_string padded(json);
  simdjson::dom::parser parser;
  element root;
  if (auto ec = parser.parse(padded).get(root); ec) {
    message->Clear();
    return Status::InvalidArgument(JsonError(ec));
  }
  return ParseOtlpJsonElement(root, max_value_depth, message);
}

}  // namespace cistern::otlp
