#include "event/otlp/encode.h"

#include <google/protobuf/reflection.h>

#include <exception>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cistern/otlp/logs_service.pb.h"
#include "cistern/otlp/metrics_service.pb.h"
#include "event/otlp/any_value.h"
#include "event/otlp/message_io.h"
#include "event/otlp/payload.h"

namespace cistern {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::RepeatedPtrField;
using opentelemetry::proto::common::v1::InstrumentationScope;
using opentelemetry::proto::common::v1::KeyValue;
using opentelemetry::proto::logs::v1::LogRecord;
using opentelemetry::proto::logs::v1::ResourceLogs;
using opentelemetry::proto::logs::v1::ScopeLogs;
using opentelemetry::proto::metrics::v1::Metric;
using opentelemetry::proto::metrics::v1::ResourceMetrics;
using opentelemetry::proto::metrics::v1::ScopeMetrics;
using opentelemetry::proto::resource::v1::Resource;

// Appends a key that names `message` exactly (presence + serialized bytes + a text), for
// grouping. Messages parsed from OTLP/JSON hold no unknown fields and no maps, so identical
// content serializes to identical bytes.
void AppendKey(bool present, const Message* message, std::string_view text, std::string* key) {
  std::string bytes = present ? message->SerializeAsString() : std::string();
  *key += present ? 'P' : 'A';
  *key += std::to_string(bytes.size()) + ':' + bytes;
  *key += std::to_string(text.size()) + ':';
  key->append(text);
}

void AddString(RepeatedPtrField<KeyValue>* attributes, std::string_view key,
               std::string_view value) {
  KeyValue* kv = attributes->Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_string_value(std::string(value));
}

void AddInt(RepeatedPtrField<KeyValue>* attributes, std::string_view key, int64_t value) {
  KeyValue* kv = attributes->Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_int_value(value);
}

// Finds or appends the ResourceX/ScopeX pair for a record, keeping first-seen order.
// ResourceT is ResourceLogs or ResourceMetrics, ScopeT ScopeLogs or ScopeMetrics; `add_scope`
// appends a ScopeT to a ResourceT.
template <typename ResourceT, typename ScopeT>
class Groups {
 public:
  template <typename AddResource, typename AddScope>
  ScopeT* Find(otlp::StoredOtlp& parts, AddResource add_resource, AddScope add_scope) {
    std::string resource_key;
    AppendKey(parts.has_resource, &parts.resource, parts.resource_schema_url, &resource_key);
    auto [r, new_resource] = resources_.try_emplace(resource_key, nullptr);
    if (new_resource) {
      r->second = add_resource();
      if (parts.has_resource) r->second->mutable_resource()->Swap(&parts.resource);
      r->second->set_schema_url(parts.resource_schema_url);
    }
    std::string scope_key = resource_key;
    AppendKey(parts.has_scope, &parts.scope, parts.scope_schema_url, &scope_key);
    auto [s, new_scope] = scopes_.try_emplace(std::move(scope_key), nullptr);
    if (new_scope) {
      s->second = add_scope(r->second);
      if (parts.has_scope) s->second->mutable_scope()->Swap(&parts.scope);
      s->second->set_schema_url(parts.scope_schema_url);
    }
    return s->second;
  }

 private:
  std::unordered_map<std::string, ResourceT*> resources_;
  std::unordered_map<std::string, ScopeT*> scopes_;
};

class LogsBuilder {
 public:
  void AddOtlp(otlp::StoredOtlp& parts, const OtlpStoredEvent& event, std::string_view node_id,
               const OtlpEncodeOptions& options) {
    LogRecord* record = Scope(parts)->add_log_records();
    record->Swap(&parts.record);
    if (options.tag_otlp_log_records) {
      AddString(record->mutable_attributes(), "cistern.node_id", node_id);
      AddInt(record->mutable_attributes(), "cistern.event_id", event.id);
    }
    ++records_;
  }

  void AddNative(const OtlpStoredEvent& event, std::string_view node_id) {
    otlp::StoredOtlp parts;
    parts.has_resource = true;
    AddString(parts.resource.mutable_attributes(), "device.id", event.device_id);
    parts.has_scope = true;
    parts.scope.set_name("cistern");
    LogRecord* record = Scope(parts)->add_log_records();
    uint64_t nanos = event.ts > 0 ? static_cast<uint64_t>(event.ts) * 1'000'000 : 0;
    record->set_time_unix_nano(nanos);
    record->set_observed_time_unix_nano(nanos);
    record->set_event_name(std::string(event.kind));
    if (event.has_payload) {
      otlp::PayloadToAnyValue(event.payload_json, kOtlpMaxValueDepth, record->mutable_body());
    }
    auto* attributes = record->mutable_attributes();
    AddString(attributes, "cistern.device_id", event.device_id);
    AddString(attributes, "cistern.kind", event.kind);
    AddString(attributes, "cistern.node_id", node_id);
    AddInt(attributes, "cistern.event_id", event.id);
    ++records_;
  }

  size_t records() const { return records_; }
  const opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest& request() const {
    return request_;
  }

 private:
  ScopeLogs* Scope(otlp::StoredOtlp& parts) {
    return groups_.Find(
        parts, [&] { return request_.add_resource_logs(); },
        [](ResourceLogs* r) { return r->add_scope_logs(); });
  }

  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest request_;
  Groups<ResourceLogs, ScopeLogs> groups_;
  size_t records_ = 0;
};

class MetricsBuilder {
 public:
  void Add(otlp::StoredOtlp& parts) {
    Metric& metric = parts.metric;
    const auto* oneof = Metric::descriptor()->FindOneofByName("data");
    const FieldDescriptor* data_field =
        metric.GetReflection()->GetOneofFieldDescriptor(metric, oneof);
    if (data_field == nullptr) return;  // a stored metric always has its point; be safe
    Message* data = metric.GetReflection()->MutableMessage(&metric, data_field);
    const FieldDescriptor* points = data->GetDescriptor()->FindFieldByName("data_points");
    // Take the points out; what is left names the metric.
    std::vector<std::unique_ptr<Message>> taken;
    while (data->GetReflection()->FieldSize(*data, points) > 0) {
      taken.emplace_back(data->GetReflection()->ReleaseLast(data, points));
    }
    ScopeMetrics* scope = groups_.Find(
        parts, [&] { return request_.add_resource_metrics(); },
        [](ResourceMetrics* r) { return r->add_scope_metrics(); });
    std::string key = std::to_string(reinterpret_cast<uintptr_t>(scope)) + ':';
    AppendKey(true, &metric, "", &key);
    auto [it, is_new] = metrics_.try_emplace(std::move(key), nullptr);
    if (is_new) {
      it->second = scope->add_metrics();
      it->second->Swap(&metric);
    }
    Metric* target = it->second;
    Message* target_data = target->GetReflection()->MutableMessage(target, data_field);
    for (auto p = taken.rbegin(); p != taken.rend(); ++p) {  // released last-first
      target_data->GetReflection()->AddAllocatedMessage(target_data, points, p->release());
      ++points_;
    }
  }

  size_t points() const { return points_; }
  const opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest& request() const {
    return request_;
  }

 private:
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest request_;
  Groups<ResourceMetrics, ScopeMetrics> groups_;
  std::unordered_map<std::string, Metric*> metrics_;
  size_t points_ = 0;
};

Result<OtlpExport> Encode(std::span<const OtlpStoredEvent> events, std::string_view node_id,
                          OtlpEncoding encoding, const OtlpEncodeOptions& options) {
  LogsBuilder logs;
  MetricsBuilder metrics;
  otlp::StoredOtlp parts;
  for (const OtlpStoredEvent& event : events) {
    if (event.has_payload && otlp::ParseStoredOtlp(event.payload_json, &parts)) {
      if (parts.signal == otlp::Signal::kLog) {
        logs.AddOtlp(parts, event, node_id, options);
      } else {
        metrics.Add(parts);
      }
    } else {
      logs.AddNative(event, node_id);
    }
  }
  OtlpExport out;
  out.log_records = logs.records();
  out.data_points = metrics.points();
  if (out.log_records > 0) {
    if (Status s = otlp::SerializeOtlpMessage(logs.request(), encoding, &out.logs_body); !s.ok()) {
      return s;
    }
  }
  if (out.data_points > 0) {
    if (Status s = otlp::SerializeOtlpMessage(metrics.request(), encoding, &out.metrics_body);
        !s.ok()) {
      return s;
    }
  }
  return out;
}

}  // namespace

Result<OtlpExport> EncodeOtlpExport(std::span<const OtlpStoredEvent> events,
                                    std::string_view node_id, OtlpEncoding encoding,
                                    const OtlpEncodeOptions& options) {
  try {
    return Encode(events, node_id, encoding, options);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("encoding OTLP: ") + e.what());
  }
}

}  // namespace cistern
