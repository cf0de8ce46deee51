// OTLP/JSON input and output rules (OTLP spec, "JSON Protobuf Encoding";
// src/event/otlp/otlp_json.h).
#include <gtest/gtest.h>

#include "event/otlp/decode.h"
#include "otlp_samples.h"

namespace cistern {
namespace {

using namespace otlp_test;

// The events of a JSON logs body with the given records array.
Result<OtlpDecoded> Logs(const std::string& records) {
  std::string body = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":)" + records + "}]}]}";
  return DecodeOtlpLogs(body, OtlpEncoding::kJson, {}, kNowMs);
}

std::string OnlyPayload(const Result<OtlpDecoded>& r) {
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok() || r->events.size() != 1) return "<not one event>";
  return std::string(r->events[0].payload_json);
}

std::string ErrorOf(const Result<OtlpDecoded>& r) {
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "<ok>";
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  return r.status().message();
}

TEST(OtlpJson, IdsAreHexInEitherCaseAndPrintedLowercase) {
  std::string upper = OnlyPayload(
      Logs(R"([{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174"}])"));
  std::string lower = OnlyPayload(
      Logs(R"([{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}])"));
  EXPECT_EQ(upper, lower);
  EXPECT_NE(lower.find(R"("traceId":"5b8efff798038103d269b633813fc60c")"), std::string::npos);
  EXPECT_NE(lower.find(R"("spanId":"eee19b7ec3c1b174")"), std::string::npos);
}

TEST(OtlpJson, AnIdThatIsNotHexRefusesTheRequestNamingTheField) {
  std::string e = ErrorOf(Logs(R"([{}, {"traceId":"5b8efff798038103d269b633813fc6zz"}])"));
  EXPECT_NE(e.find("resourceLogs[0].scopeLogs[0].logRecords[1].traceId"), std::string::npos) << e;
  EXPECT_NE(e.find("hex"), std::string::npos) << e;
  // base64 (the standard protobuf mapping) is not OTLP/JSON.
  EXPECT_NE(ErrorOf(Logs(R"([{"spanId":"7uGbfsPBsXQ="}])")).find("spanId"), std::string::npos);
  // An odd number of digits.
  EXPECT_NE(ErrorOf(Logs(R"([{"spanId":"abc"}])")).find("spanId"), std::string::npos);
  // In an exemplar of a metric, too.
  std::string metrics =
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[)"
      R"({"exemplars":[{"spanId":"xyz0"}]}]}}]}]}]})";
  Result<OtlpDecoded> r = DecodeOtlpMetrics(metrics, OtlpEncoding::kJson, {}, kNowMs);
  EXPECT_NE(ErrorOf(r).find("metrics[0].gauge.dataPoints[0].exemplars[0].spanId"),
            std::string::npos);
}

TEST(OtlpJson, AnEmptyIdIsNoId) {
  std::string p = OnlyPayload(Logs(R"([{"traceId":"","spanId":""}])"));
  EXPECT_EQ(p.find("traceId"), std::string::npos) << p;
}

TEST(OtlpJson, EnumsAreIntegersAndNamesAreAccepted) {
  std::string as_int = OnlyPayload(Logs(R"([{"severityNumber":17}])"));
  std::string as_name = OnlyPayload(Logs(R"([{"severityNumber":"SEVERITY_NUMBER_ERROR"}])"));
  EXPECT_EQ(as_int, as_name);
  EXPECT_NE(as_int.find(R"("severityNumber":17)"), std::string::npos) << as_int;
  // A number the enum does not name is kept (proto3 enums are open).
  EXPECT_NE(OnlyPayload(Logs(R"([{"severityNumber":99}])")).find(R"("severityNumber":99)"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Logs(R"([{"severityNumber":"LOUD"}])")).find("unknown SeverityNumber name"),
            std::string::npos);
}

TEST(OtlpJson, SixtyFourBitIntegersAreStringsOrNumbers) {
  std::string as_string = OnlyPayload(Logs(
      R"([{"timeUnixNano":"1700000000123456789","body":{"intValue":"-9223372036854775808"}}])"));
  std::string as_number = OnlyPayload(
      Logs(R"([{"timeUnixNano":1700000000123456789,"body":{"intValue":-9223372036854775808}}])"));
  EXPECT_EQ(as_string, as_number);
  EXPECT_NE(as_string.find(R"("timeUnixNano":"1700000000123456789")"), std::string::npos);
  EXPECT_NE(as_string.find(R"("intValue":"-9223372036854775808")"), std::string::npos);
  Result<OtlpDecoded> r = Logs(R"([{"timeUnixNano":"18446744073709551615"}])");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->events[0].ts, 18'446'744'073'709);
  EXPECT_NE(ErrorOf(Logs(R"([{"timeUnixNano":-1}])")).find("time_unix_nano"), std::string::npos);
  EXPECT_NE(ErrorOf(Logs(R"([{"timeUnixNano":"18446744073709551616"}])")).find("time_unix_nano"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Logs(R"([{"timeUnixNano":1.5}])")).find("time_unix_nano"), std::string::npos);
}

TEST(OtlpJson, UnknownFieldsAreIgnoredAtEveryLevel) {
  std::string deep = "1";
  for (int i = 0; i < 200; ++i) deep = R"({"x":[)" + deep + "]}";  // deep, but not AnyValue
  std::string body = R"({"futureTopLevel":1,"resourceLogs":[{"resource":{"attributes":[],"new":)" +
                     deep + R"(},"scopeLogs":[{"logRecords":[{"severityText":"INFO","newField":)" +
                     R"({"a":[1,2]}}]}],"other":null}]})";
  Result<OtlpDecoded> r = DecodeOtlpLogs(body, OtlpEncoding::kJson, {}, kNowMs);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].kind, "INFO");
  EXPECT_EQ(r->events[0].payload_json.find("newField"), std::string::npos);
}

TEST(OtlpJson, SnakeCaseFieldNamesAreAcceptedToo) {
  std::string camel =
      R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"5000000","severityText":"W",)"
      R"("traceId":"5b8efff798038103d269b633813fc60c","droppedAttributesCount":2}]}],"schemaUrl":"u"}]})";
  std::string snake =
      R"({"resource_logs":[{"scope_logs":[{"log_records":[{"time_unix_nano":"5000000","severity_text":"W",)"
      R"("trace_id":"5b8efff798038103d269b633813fc60c","dropped_attributes_count":2}]}],"schema_url":"u"}]})";
  Result<OtlpDecoded> a = DecodeOtlpLogs(camel, OtlpEncoding::kJson, {}, kNowMs);
  Result<OtlpDecoded> b = DecodeOtlpLogs(snake, OtlpEncoding::kJson, {}, kNowMs);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->events.size(), 1u);
  ASSERT_EQ(b->events.size(), 1u);
  EXPECT_EQ(a->events[0].payload_json, b->events[0].payload_json);
  EXPECT_EQ(b->events[0].ts, 5);
  EXPECT_NE(b->events[0].payload_json.find(R"("droppedAttributesCount":2)"), std::string::npos);
}

TEST(OtlpJson, BytesValuesStayBase64) {
  std::string p = OnlyPayload(Logs(R"([{"body":{"bytesValue":"AAH+/w=="}}])"));
  EXPECT_NE(p.find(R"("bytesValue":"AAH+/w==")"), std::string::npos) << p;
}

TEST(OtlpJson, WrongShapesAndTypesAreRefused) {
  EXPECT_NE(ErrorOf(Logs(R"([{"body":{"intValue":1,"stringValue":"x"}}])")).find("oneof"),
            std::string::npos);
  ErrorOf(Logs(R"([{"severityText":{"a":1}}])"));
  EXPECT_NE(ErrorOf(Logs(R"([{"attributes":{"key":"a"}}])")).find("attributes: must be an array"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Logs(R"([{"body":"text"}])")).find("body"), std::string::npos);
  ErrorOf(Logs(R"("not a list")"));
  EXPECT_EQ(ErrorOf(DecodeOtlpLogs("[]", OtlpEncoding::kJson, {}, kNowMs)),
            "invalid OTLP/JSON: the document must be a JSON object");
}

TEST(OtlpJson, InvalidJsonAndInvalidUtf8AreRefused) {
  EXPECT_NE(ErrorOf(DecodeOtlpLogs(R"({"resourceLogs":[)", OtlpEncoding::kJson, {}, kNowMs))
                .find("invalid JSON"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Logs("[{\"body\":{\"stringValue\":\"\xff\xfe\"}}]")).find("UTF-8"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Logs("[{\"severityText\":\"\xc3\"}]")).find("UTF-8"), std::string::npos);
  ErrorOf(DecodeOtlpLogs("", OtlpEncoding::kJson, {}, kNowMs));
}

TEST(OtlpJson, PrintedPartsUseCamelCaseIntegerEnumsAndStringInt64s) {
  OtlpDecoded d = DecodeOtlpLogs(Body(SampleLogs(), OtlpEncoding::kProtobuf),
                                 OtlpEncoding::kProtobuf, {}, kNowMs)
                      .value();
  const std::string p(d.events[0].payload_json);
  for (const char* expected :
       {R"("severityNumber":13)", R"("observedTimeUnixNano":"1700000000128456789")",
        R"("droppedAttributesCount":3)", R"("intValue":"-9223372036854775808")",
        R"("doubleValue":"Infinity")", R"("eventName":"disk.full")"}) {
    EXPECT_NE(p.find(expected), std::string::npos) << expected << " in " << p;
  }
  EXPECT_EQ(p.find('_'), std::string::npos) << "a snake_case name in " << p;
}

}  // namespace
}  // namespace cistern
