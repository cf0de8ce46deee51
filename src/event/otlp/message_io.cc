#include "event/otlp/message_io.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/reflection.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/unknown_field_set.h>

#include <algorithm>
#include <climits>
#include <exception>
#include <vector>

#include "cistern/otlp/common.pb.h"
#include "event/otlp/otlp_json.h"

namespace cistern::otlp {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Walks every set message field. Returns the deepest AnyValue nesting below `message`
// (`depth` counts the AnyValues above it) and sets *misplaced to the first field that was sent
// with a wire type other than its declared one: libprotobuf keeps such a field among the
// unknown fields instead of failing.
int Walk(const Message& message, int depth, const FieldDescriptor** misplaced) {
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  if (descriptor == opentelemetry::proto::common::v1::AnyValue::descriptor()) ++depth;
  const Reflection* reflection = message.GetReflection();
  if (*misplaced == nullptr) {
    const google::protobuf::UnknownFieldSet& unknown = reflection->GetUnknownFields(message);
    for (int i = 0; i < unknown.field_count(); ++i) {
      if (const FieldDescriptor* f = descriptor->FindFieldByNumber(unknown.field(i).number())) {
        *misplaced = f;
        break;
      }
    }
  }
  int deepest = depth;
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* f : fields) {
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      int n = reflection->FieldSize(message, f);
      for (int i = 0; i < n; ++i) {
        deepest = std::max(deepest,
                           Walk(reflection->GetRepeatedMessage(message, f, i), depth, misplaced));
      }
    } else {
      deepest = std::max(deepest, Walk(reflection->GetMessage(message, f), depth, misplaced));
    }
  }
  return deepest;
}

std::string Undecodable(const Message& message, const std::string& why) {
  return "undecodable protobuf " + message.GetDescriptor()->name() + ": " + why;
}

Status ParseBinary(std::string_view body, Message* message) {
  if (body.size() > static_cast<size_t>(INT_MAX)) {
    return Status::TooLarge("protobuf body over 2 GiB");
  }
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(body.data()),
                                            static_cast<int>(body.size()));
  in.SetRecursionLimit(kOtlpMaxMessageDepth);
  // libprotobuf logs (to stderr) every string that is not UTF-8; a client must not be able to
  // fill the collector's log that way. The silencer is a process-wide counter: other threads'
  // protobuf messages are muted meanwhile too, which costs nothing here.
  google::protobuf::LogSilencer silence;
  if (!message->ParseFromCodedStream(&in) || !in.ConsumedEntireMessage()) {
    return Status::InvalidArgument(
        Undecodable(*message,
                    "truncated, a wrong wire type, invalid UTF-8 in a string field, or messages "
                    "nested more than " +
                        std::to_string(kOtlpMaxMessageDepth) + " deep"));
  }
  return Status::Ok();
}

}  // namespace

int MaxValueDepth(const Message& message) {
  const FieldDescriptor* misplaced = nullptr;
  return Walk(message, 0, &misplaced);
}

Status ParseOtlpMessage(std::string_view body, OtlpEncoding encoding, int max_value_depth,
                        Message* message) {
  try {
    Status s = encoding == OtlpEncoding::kProtobuf ? ParseBinary(body, message)
                                                   : ParseOtlpJson(body, max_value_depth, message);
    if (!s.ok()) return s;
    // JSON was checked while transcoding; binary is only known once parsed.
    const FieldDescriptor* misplaced = nullptr;
    int depth = Walk(*message, 0, &misplaced);
    if (misplaced != nullptr) {
      return Status::InvalidArgument(
          Undecodable(*message, "field " + misplaced->full_name() + " has the wrong wire type"));
    }
    if (depth > max_value_depth) {
      return Status::InvalidArgument("AnyValue nested deeper than " +
                                     std::to_string(max_value_depth) + " levels (" +
                                     std::to_string(depth) + ")");
    }
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    return Status::TooLarge("out of memory decoding the OTLP body");
  } catch (const std::exception& e) {
    return Status::Internal(std::string("decoding the OTLP body: ") + e.what());
  }
}

Status SerializeOtlpMessage(const Message& message, OtlpEncoding encoding, std::string* out) {
  out->clear();
  try {
    if (encoding == OtlpEncoding::kJson) {
      AppendOtlpJson(message, out);
      return Status::Ok();
    }
    if (!message.SerializeToString(out)) {
      return Status::Internal("serializing " + message.GetDescriptor()->name() + " failed");
    }
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("serializing OTLP: ") + e.what());
  }
}

}  // namespace cistern::otlp
