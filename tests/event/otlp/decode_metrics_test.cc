// DecodeOtlpMetrics: one event per data point (src/event/otlp/decode.h, docs/otlp.md).
#include <gtest/gtest.h>

#include "event/otlp/decode.h"
#include "otlp_samples.h"

namespace cistern {
namespace {

using namespace otlp_test;

OtlpDecoded DecodeOk(const ExportMetricsServiceRequest& request, OtlpEncoding encoding,
                     const OtlpLimits& limits = {}) {
  Result<OtlpDecoded> r = DecodeOtlpMetrics(Body(request, encoding), encoding, limits, kNowMs);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(r).value() : OtlpDecoded{};
}

TEST(OtlpDecodeMetrics, OneEventPerDataPointNamedAfterItsMetric) {
  OtlpDecoded d = DecodeOk(SampleMetrics(), OtlpEncoding::kProtobuf);
  ASSERT_EQ(d.events.size(), kSampleMetricPoints);
  const char* kinds[] = {"temperature", "temperature", "requests", "requests", "latency",
                         "latency",     "size",        "rtt",      "metric"};
  const int64_t ms = 1'700'000'000'123;
  const int64_t ts[] = {ms, ms + 1000, ms, ms, ms, ms, ms, ms, kNowMs};
  for (size_t i = 0; i < kSampleMetricPoints; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(d.events[i].kind, kinds[i]);
    EXPECT_EQ(d.events[i].ts, ts[i]);
    EXPECT_EQ(d.events[i].device_id, i < 8 ? "edge-01" : "unknown");
    EXPECT_EQ(d.events[i].payload_json.substr(0, 17), R"({"otlp":"metric",)");
  }
}

TEST(OtlpDecodeMetrics, EachPayloadHoldsItsMetricWithExactlyOnePoint) {
  OtlpDecoded d = DecodeOk(SampleMetrics(), OtlpEncoding::kProtobuf);
  ASSERT_EQ(d.events.size(), kSampleMetricPoints);
  // The second point of the cumulative monotonic sum "requests".
  ParsedJson sum(d.events[3].payload_json);
  ASSERT_TRUE(sum.ok);
  simdjson::dom::element metric = sum.root["metric"].value();
  EXPECT_EQ(std::string_view(metric["name"].get_string().value()), "requests");
  simdjson::dom::array points = metric["sum"]["dataPoints"].get_array().value();
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(std::string_view(points.at(0)["asInt"].get_string().value()), "1001");
  EXPECT_EQ(int64_t(metric["sum"]["aggregationTemporality"].get_int64().value()), 2);
  EXPECT_TRUE(bool(metric["sum"]["isMonotonic"].get_bool().value()));
  // The gauge keeps description, unit, metadata, and its point's exemplar with hex ids.
  ParsedJson gauge(d.events[0].payload_json);
  ASSERT_TRUE(gauge.ok);
  simdjson::dom::element g = gauge.root["metric"].value();
  EXPECT_EQ(std::string_view(g["unit"].get_string().value()), "Cel");
  EXPECT_EQ(std::string_view(g["metadata"].at(0)["key"].get_string().value()), "source");
  simdjson::dom::element exemplar = g["gauge"]["dataPoints"].at(0)["exemplars"].at(0).value();
  EXPECT_EQ(std::string_view(exemplar["traceId"].get_string().value()),
            "5b8efff798038103d269b633813fc60c");
  // Every event's payload has one point, whatever the metric's type.
  for (size_t i = 0; i < d.events.size(); ++i) {
    ParsedJson p(d.events[i].payload_json);
    ASSERT_TRUE(p.ok);
    simdjson::dom::object m = p.root["metric"].get_object().value();
    size_t point_lists = 0;
    for (auto field : m) {
      simdjson::dom::array list;
      if (field.value["dataPoints"].get_array().get(list) == simdjson::SUCCESS) {
        EXPECT_EQ(list.size(), 1u) << i;
        ++point_lists;
      }
    }
    EXPECT_EQ(point_lists, 1u) << d.events[i].payload_json;
  }
}

TEST(OtlpDecodeMetrics, AMetricWithoutPointsStoresNothing) {
  ExportMetricsServiceRequest request;
  auto* sm = request.add_resource_metrics()->add_scope_metrics();
  sm->add_metrics()->set_name("no data at all");
  auto* empty_sum = sm->add_metrics();
  empty_sum->set_name("a sum without points");
  empty_sum->mutable_sum()->set_is_monotonic(true);
  auto* one = sm->add_metrics();
  one->set_name("one");
  one->mutable_summary()->add_data_points()->set_count(1);
  OtlpDecoded d = DecodeOk(request, OtlpEncoding::kJson);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].kind, "one");
}

TEST(OtlpDecodeMetrics, TooManyPointsRefusesTheWholeRequest) {
  OtlpLimits limits;
  limits.max_records = kSampleMetricPoints - 1;
  Result<OtlpDecoded> r = DecodeOtlpMetrics(Body(SampleMetrics(), OtlpEncoding::kProtobuf),
                                            OtlpEncoding::kProtobuf, limits, kNowMs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kTooLarge);
  EXPECT_EQ(r.status().message(), "too many data points in one request: 9 (limit 8)");
}

TEST(OtlpDecodeMetrics, AnOversizedPointIsRejectedAlone) {
  ExportMetricsServiceRequest request;
  auto* m = request.add_resource_metrics()->add_scope_metrics()->add_metrics();
  m->set_name("h");
  auto* h = m->mutable_histogram();
  h->add_data_points()->set_count(1);
  auto* big = h->add_data_points();
  for (int i = 0; i < 2000; ++i) big->add_bucket_counts(i);
  OtlpLimits limits;
  limits.max_payload_bytes = 4096;
  OtlpDecoded d = DecodeOk(request, OtlpEncoding::kProtobuf, limits);
  EXPECT_EQ(d.events.size(), 1u);
  ASSERT_EQ(d.rejected.size(), 1u);
  EXPECT_EQ(d.rejected[0].index, 1u);
  EXPECT_EQ(d.rejected[0].kind, "h");
  EXPECT_NE(d.rejected[0].payload_json.find(R"("1999"])"), std::string::npos);
}

TEST(OtlpDecodeMetrics, BothEncodingsOfARequestGiveIdenticalEvents) {
  OtlpDecoded binary = DecodeOk(SampleMetrics(), OtlpEncoding::kProtobuf);
  OtlpDecoded json = DecodeOk(SampleMetrics(), OtlpEncoding::kJson);
  ASSERT_EQ(binary.events.size(), kSampleMetricPoints);
  ASSERT_EQ(json.events.size(), binary.events.size());
  for (size_t i = 0; i < binary.events.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(json.events[i].device_id, binary.events[i].device_id);
    EXPECT_EQ(json.events[i].kind, binary.events[i].kind);
    EXPECT_EQ(json.events[i].ts, binary.events[i].ts);
    EXPECT_EQ(json.events[i].payload_json, binary.events[i].payload_json);
  }
}

}  // namespace
}  // namespace cistern
