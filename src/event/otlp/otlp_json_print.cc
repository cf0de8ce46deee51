// OTLP/JSON printing (otlp_json.h).
#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <google/protobuf/stubs/strutil.h>

#include <cmath>
#include <vector>

#include "common/json_writer.h"
#include "event/otlp/otlp_json.h"
#include "event/otlp/otlp_json_util.h"

namespace cistern::otlp {
namespace {

using google::protobuf::FieldDescriptor;
using json_detail::AppendDouble;
using json_detail::AppendHex;
using json_detail::AppendNumber;
using json_detail::IsIdField;

// Prints a message in OTLP/JSON. libprotobuf's printer does not fit: it writes ids in base64
// and gives up below about 64 nested messages (a metrics request with an exemplar attribute
// nested 20 deep), where the parser accepts 100. This follows the proto3 JSON mapping for the
// field types OTLP uses: fields in number order, present fields only (as libprotobuf prints
// them), lowerCamelCase names, 64-bit integers as strings, enums as numbers, non-finite
// doubles as "NaN"/"Infinity"/"-Infinity", bytes in base64 except the ids (hex).
// Recursion is bounded by the nesting of a parsed message (kOtlpMaxMessageDepth).
class Printer {
 public:
  explicit Printer(std::string* out) : out_(out) {}

  void Message(const google::protobuf::Message& message) {
    const google::protobuf::Reflection* reflection = message.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    reflection->ListFields(message, &fields);  // sorted by field number
    *out_ += '{';
    for (size_t i = 0; i < fields.size(); ++i) {
      const FieldDescriptor* f = fields[i];
      if (i > 0) *out_ += ',';
      AppendJsonString(out_, f->json_name());
      *out_ += ':';
      if (!f->is_repeated()) {
        Value(message, f, -1);
        continue;
      }
      *out_ += '[';
      int n = reflection->FieldSize(message, f);
      for (int j = 0; j < n; ++j) {
        if (j > 0) *out_ += ',';
        Value(message, f, j);
      }
      *out_ += ']';
    }
    *out_ += '}';
  }

 private:
  // Field f of `message`, element `index` when repeated (-1: singular).
  void Value(const google::protobuf::Message& message, const FieldDescriptor* f, int index) {
    const google::protobuf::Reflection* r = message.GetReflection();
    const bool rep = index >= 0;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        AppendNumber(rep ? r->GetRepeatedInt32(message, f, index) : r->GetInt32(message, f), out_);
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        AppendNumber(rep ? r->GetRepeatedUInt32(message, f, index) : r->GetUInt32(message, f),
                     out_);
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        Quoted(rep ? r->GetRepeatedInt64(message, f, index) : r->GetInt64(message, f));
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        Quoted(rep ? r->GetRepeatedUInt64(message, f, index) : r->GetUInt64(message, f));
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        Double(rep ? r->GetRepeatedDouble(message, f, index) : r->GetDouble(message, f));
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        Double(rep ? r->GetRepeatedFloat(message, f, index) : r->GetFloat(message, f));
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        *out_ += (rep ? r->GetRepeatedBool(message, f, index) : r->GetBool(message, f)) ? "true"
                                                                                        : "false";
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        AppendNumber(rep ? r->GetRepeatedEnumValue(message, f, index) : r->GetEnumValue(message, f),
                     out_);
        break;
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        const std::string& s = rep ? r->GetRepeatedStringReference(message, f, index, &scratch)
                                   : r->GetStringReference(message, f, &scratch);
        String(f, s);
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        Message(rep ? r->GetRepeatedMessage(message, f, index) : r->GetMessage(message, f));
        break;
    }
  }

  void String(const FieldDescriptor* f, const std::string& s) {
    if (f->type() != FieldDescriptor::TYPE_BYTES) {
      AppendJsonString(out_, s);
    } else if (IsIdField(f)) {
      *out_ += '"';
      AppendHex(s, out_);
      *out_ += '"';
    } else {
      std::string base64;
      google::protobuf::Base64Escape(s, &base64);
      AppendJsonString(out_, base64);
    }
  }

  template <typename T>
  void Quoted(T v) {
    *out_ += '"';
    AppendNumber(v, out_);
    *out_ += '"';
  }

  void Double(double v) {
    if (std::isnan(v)) {
      *out_ += "\"NaN\"";
    } else if (std::isinf(v)) {
      *out_ += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    } else {
      AppendDouble(v, out_);
    }
  }

  std::string* out_;
};

}  // namespace

void AppendOtlpJson(const google::protobuf::Message& message, std::string* out) {
  Printer(out).Message(message);
}

}  // namespace cistern::otlp
