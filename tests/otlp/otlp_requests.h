// Small OTLP requests for the integration tests, built with the generated classes of the
// project's .proto subset (docs/otlp.md), and their two encodings.
#pragma once

#include <string>

#include "cistern/otlp/logs_service.pb.h"
#include "cistern/otlp/metrics_service.pb.h"

namespace cistern::testing {

using opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;

// One resource {device.id: device, service.name: svc}, scope "scope-a" 1.0, two records:
// [0] event_name "login", INFO (9), body "hello", attribute user=alice, n=7, trace and span
//     ids, time 1700000000123456789;
// [1] severity text "WARN" (13), body "second", only observed time 1700000001000000000.
ExportLogsServiceRequest TwoLogs(const std::string& device);

// One resource {device.id: device}, a gauge "cpu.temp" (unit Cel) with three points 41.5,
// 42.5, 43.5 one second apart from 1700000000123456789, attribute core=<i>.
ExportMetricsServiceRequest ThreePoints(const std::string& device);

std::string ToProtobuf(const google::protobuf::Message& m);
// OTLP/JSON: hex ids, as the OTLP spec wants (libprotobuf's printer writes base64 ids).
std::string ToJson(const google::protobuf::Message& m);
// Parses OTLP/JSON into `m` (unknown fields ignored).
bool FromJson(const std::string& json, google::protobuf::Message* m);

}  // namespace cistern::testing
