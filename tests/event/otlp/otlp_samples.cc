#include "otlp_samples.h"

#include <gtest/gtest.h>

#include <cmath>

#include "event/otlp/message_io.h"

namespace cistern::otlp_test {

using namespace opentelemetry::proto;

KeyValue* AddAttribute(google::protobuf::RepeatedPtrField<KeyValue>* attributes,
                       const std::string& key, const std::string& value) {
  KeyValue* kv = attributes->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
  return kv;
}

AnyValue NestedValue(int depth) {
  AnyValue v;
  v.set_string_value("leaf");
  for (int i = 1; i < depth; ++i) {
    AnyValue outer;
    KeyValue* kv = outer.mutable_kvlist_value()->add_values();
    kv->set_key("k");
    *kv->mutable_value() = std::move(v);
    v = std::move(outer);
  }
  return v;
}

namespace {

const std::string kTraceId("\x5b\x8e\xff\xf7\x98\x03\x81\x03\xd2\x69\xb6\x33\x81\x3f\xc6\x0c", 16);
const std::string kSpanId("\xee\xe1\x9b\x7e\xc3\xc1\xb1\x74", 8);

void FillRichBody(AnyValue* body) {
  auto* list = body->mutable_kvlist_value();
  auto add = [&](const std::string& key) {
    KeyValue* kv = list->add_values();
    kv->set_key(key);
    return kv->mutable_value();
  };
  add("message")->set_string_value("disk \"sda\" 91% full\n\tnext line \xc3\xa9");
  add("count")->set_int_value(-9'223'372'036'854'775'807LL - 1);
  add("ratio")->set_double_value(0.1);
  add("big")->set_double_value(INFINITY);
  add("ok")->set_bool_value(true);
  add("raw")->set_bytes_value(std::string("\x00\x01\xfe\xff", 4));
  add("empty");  // the empty AnyValue
  auto* array = add("list")->mutable_array_value();
  array->add_values()->set_int_value(1);
  array->add_values()->set_string_value("two");
  *array->add_values() = NestedValue(3);
}

void FillScope(common::v1::InstrumentationScope* scope, const std::string& name) {
  scope->set_name(name);
  scope->set_version("1.2.3");
  AddAttribute(scope->mutable_attributes(), "scope.attr", "s");
  scope->set_dropped_attributes_count(2);
}

}  // namespace

ExportLogsServiceRequest SampleLogs() {
  ExportLogsServiceRequest request;
  auto* rl = request.add_resource_logs();
  auto* resource = rl->mutable_resource();
  AddAttribute(resource->mutable_attributes(), "service.name", "pump-controller");
  AddAttribute(resource->mutable_attributes(), "device.id", "pump-7");
  resource->mutable_attributes()->Add()->set_key("rack");
  resource->mutable_attributes(2)->mutable_value()->set_int_value(12);
  resource->set_dropped_attributes_count(1);
  auto* entity = resource->add_entity_refs();
  entity->set_type("device");
  entity->add_id_keys("device.id");
  rl->set_schema_url("https://opentelemetry.io/schemas/1.26.0");

  auto* sl = rl->add_scope_logs();
  FillScope(sl->mutable_scope(), "pump.io");
  sl->set_schema_url("https://opentelemetry.io/schemas/1.25.0");
  LogRecord* full = sl->add_log_records();
  full->set_time_unix_nano(kTimeNanos);
  full->set_observed_time_unix_nano(kTimeNanos + 5'000'000);
  full->set_severity_number(logs::v1::SEVERITY_NUMBER_WARN);
  full->set_severity_text("WARN");
  FillRichBody(full->mutable_body());
  AddAttribute(full->mutable_attributes(), "disk", "sda");
  full->set_dropped_attributes_count(3);
  full->set_flags(1);
  full->set_trace_id(kTraceId);
  full->set_span_id(kSpanId);
  full->set_event_name("disk.full");
  LogRecord* plain = sl->add_log_records();
  plain->set_observed_time_unix_nano(kTimeNanos);
  plain->mutable_body()->set_string_value("started");
  plain->set_severity_text("INFO");

  auto* sl2 = rl->add_scope_logs();  // no InstrumentationScope at all
  LogRecord* bare = sl2->add_log_records();
  bare->mutable_body()->set_bool_value(false);

  auto* rl2 = request.add_resource_logs();  // no Resource: the fallback device id
  auto* sl3 = rl2->add_scope_logs();
  FillScope(sl3->mutable_scope(), "other");
  LogRecord* odd_ids = sl3->add_log_records();  // ids of a wrong length still round-trip
  odd_ids->set_trace_id(std::string("\x01\x02\x03", 3));
  odd_ids->set_time_unix_nano(kTimeNanos);
  LogRecord* warn = sl3->add_log_records();
  warn->set_severity_number(logs::v1::SEVERITY_NUMBER_ERROR);
  warn->set_time_unix_nano(kTimeNanos + 1'000'000);
  return request;
}

namespace {

void AddExemplar(google::protobuf::RepeatedPtrField<metrics::v1::Exemplar>* exemplars,
                 bool as_int) {
  auto* e = exemplars->Add();
  AddAttribute(e->mutable_filtered_attributes(), "user", "u1");
  e->set_time_unix_nano(kTimeNanos - 1);
  if (as_int) {
    e->set_as_int(-5);
  } else {
    e->set_as_double(2.5);
  }
  e->set_trace_id(kTraceId);
  e->set_span_id(kSpanId);
}

}  // namespace

ExportMetricsServiceRequest SampleMetrics() {
  ExportMetricsServiceRequest request;
  auto* rm = request.add_resource_metrics();
  AddAttribute(rm->mutable_resource()->mutable_attributes(), "host.name", "edge-01");
  rm->set_schema_url("https://opentelemetry.io/schemas/1.26.0");
  auto* sm = rm->add_scope_metrics();
  FillScope(sm->mutable_scope(), "meter");

  Metric* gauge = sm->add_metrics();
  gauge->set_name("temperature");
  gauge->set_description("board temperature");
  gauge->set_unit("Cel");
  AddAttribute(gauge->mutable_metadata(), "source", "i2c");
  for (int i = 0; i < 2; ++i) {
    auto* p = gauge->mutable_gauge()->add_data_points();
    AddAttribute(p->mutable_attributes(), "sensor", "s" + std::to_string(i));
    p->set_time_unix_nano(kTimeNanos + i * 1'000'000'000ULL);
    p->set_start_time_unix_nano(kTimeNanos - 1'000'000'000ULL);
    if (i == 0) {
      p->set_as_double(21.5);
    } else {
      p->set_as_int(-40);
    }
    AddExemplar(p->mutable_exemplars(), i == 1);
    p->set_flags(i);
  }

  Metric* sum = sm->add_metrics();
  sum->set_name("requests");
  sum->mutable_sum()->set_aggregation_temporality(metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  sum->mutable_sum()->set_is_monotonic(true);
  for (int i = 0; i < 2; ++i) {
    auto* p = sum->mutable_sum()->add_data_points();
    p->set_as_int(1000 + i);
    p->set_time_unix_nano(kTimeNanos + i);
  }

  auto* sm2 = rm->add_scope_metrics();  // a second scope of the same resource
  sm2->mutable_scope()->set_name("runtime");
  Metric* histogram = sm2->add_metrics();
  histogram->set_name("latency");
  histogram->set_unit("ms");
  histogram->mutable_histogram()->set_aggregation_temporality(
      metrics::v1::AGGREGATION_TEMPORALITY_DELTA);
  for (int i = 0; i < 2; ++i) {
    auto* p = histogram->mutable_histogram()->add_data_points();
    p->set_time_unix_nano(kTimeNanos);
    p->set_count(6);
    if (i == 0) {  // optional fields set (to zero, too) on one point only
      p->set_sum(0);
      p->set_min(0.5);
      p->set_max(9.25);
    }
    for (uint64_t c : {1, 2, 3}) p->add_bucket_counts(c);
    for (double b : {1.0, 5.0}) p->add_explicit_bounds(b);
    AddExemplar(p->mutable_exemplars(), false);
  }

  Metric* exponential = sm2->add_metrics();
  exponential->set_name("size");
  auto* eh = exponential->mutable_exponential_histogram();
  eh->set_aggregation_temporality(metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* ep = eh->add_data_points();
  ep->set_time_unix_nano(kTimeNanos);
  ep->set_count(18'446'744'073'709'551'615ULL);
  ep->set_sum(-1e300);
  ep->set_scale(-3);
  ep->set_zero_count(4);
  ep->set_zero_threshold(1e-9);
  ep->mutable_positive()->set_offset(-2);
  for (uint64_t c : {5, 0, 7}) ep->mutable_positive()->add_bucket_counts(c);
  ep->mutable_negative()->set_offset(3);
  ep->mutable_negative()->add_bucket_counts(1);
  ep->set_min(-8);
  ep->set_max(1e12);
  AddExemplar(ep->mutable_exemplars(), true);

  Metric* summary = sm2->add_metrics();
  summary->set_name("rtt");
  auto* sp = summary->mutable_summary()->add_data_points();
  sp->set_time_unix_nano(kTimeNanos);
  sp->set_count(3);
  sp->set_sum(12.5);
  for (double q : {0.5, 0.99}) {
    auto* v = sp->add_quantile_values();
    v->set_quantile(q);
    v->set_value(q * 10);
  }

  auto* rm2 = request.add_resource_metrics();  // no resource; a metric without a name
  Metric* unnamed = rm2->add_scope_metrics()->add_metrics();
  unnamed->mutable_gauge()->add_data_points()->set_as_double(1);
  return request;
}

std::string Body(const google::protobuf::Message& message, OtlpEncoding encoding) {
  std::string body;
  Status s = otlp::SerializeOtlpMessage(message, encoding, &body);
  EXPECT_TRUE(s.ok()) << s.message();
  return body;
}

ParsedJson::ParsedJson(std::string_view t) : text(t) {
  ok = parser.parse(text).get(root) == simdjson::SUCCESS;
}

}  // namespace cistern::otlp_test
