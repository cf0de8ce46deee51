// Tests for ParseEvents (src/event/parse.h) against the contract in its header, and for the
// EventBatch arena (src/event/event.h).
#include "event/parse.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "event/event.h"

namespace cistern {
namespace {

constexpr int64_t kNow = 1'700'000'000'123;

std::string Ev(std::string_view device, std::string_view kind, std::string_view extra = "") {
  std::string s =
      R"({"device_id":")" + std::string(device) + R"(","kind":")" + std::string(kind) + "\"";
  if (!extra.empty()) s += "," + std::string(extra);
  return s + "}";
}

// The test owns one parser and reuses it across calls, as the io thread does. The padded copy
// of the body dies when Parse returns, so every check also shows the batch owns its strings.
class ParseTest : public ::testing::Test {
 protected:
  Status Parse(std::string_view body, BodyFormat format = BodyFormat::kJson) {
    simdjson::padded_string padded(body);
    error_index_ = -2;  // ParseEvents must always set it
    return ParseEvents(padded, format, limits_, kNow, parser_, &batch_, &error_index_);
  }
  Status Ndjson(std::string_view body) { return Parse(body, BodyFormat::kNdjson); }

  // Expects InvalidArgument at `index` with nothing returned.
  void ExpectInvalid(std::string_view body, int64_t index, BodyFormat f = BodyFormat::kJson) {
    batch_.Add("stale", "stale", "", false, 1);  // must be cleared on failure
    Status s = Parse(body, f);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << body << " -> " << s.message();
    EXPECT_FALSE(s.message().empty());
    EXPECT_EQ(error_index_, index) << body;
    EXPECT_TRUE(batch_.empty()) << body;
  }
  // Payload of the only event, or "<none>" when it has none.
  std::string OnlyPayload(std::string_view payload_field) {
    Status s = Parse(Ev("d", "k", payload_field));
    EXPECT_TRUE(s.ok()) << payload_field << " -> " << s.message();
    if (!s.ok() || batch_.size() != 1) return "<error>";
    return batch_[0].has_payload ? std::string(batch_[0].payload_json) : "<none>";
  }

  ParseLimits limits_;
  simdjson::dom::parser parser_;
  EventBatch batch_;
  int64_t error_index_ = -2;
};

TEST_F(ParseTest, SingleObject) {
  ASSERT_TRUE(
      Parse(R"({"device_id":"dev-1","kind":"temp","payload":{"c":21},"ts":1748722000123})").ok());
  ASSERT_EQ(batch_.size(), 1u);
  EventView e = batch_[0];
  EXPECT_EQ(e.device_id, "dev-1");
  EXPECT_EQ(e.kind, "temp");
  EXPECT_TRUE(e.has_payload);
  EXPECT_EQ(e.payload_json, R"({"c":21})");
  EXPECT_EQ(e.ts, 1748722000123);
}

TEST_F(ParseTest, ArrayKeepsOrderAndPerEventValues) {
  ASSERT_TRUE(Parse("[" + Ev("a", "k1", R"("ts":1748722000005)") + ", " +
                    Ev("b", "k2", R"("payload":[1])") + ",\n " + Ev("c", "k3") + "]")
                  .ok());
  ASSERT_EQ(batch_.size(), 3u);
  EXPECT_EQ(batch_[0].device_id, "a");
  EXPECT_EQ(batch_[0].ts, 1748722000005);
  EXPECT_FALSE(batch_[0].has_payload);
  EXPECT_EQ(batch_[1].kind, "k2");
  EXPECT_EQ(batch_[1].payload_json, "[1]");
  EXPECT_EQ(batch_[1].ts, kNow);
  EXPECT_EQ(batch_[2].device_id, "c");
  EXPECT_EQ(batch_[2].kind, "k3");
}

TEST_F(ParseTest, NdjsonSkipsBlankLinesAndCarriageReturns) {
  std::string body = "\n" + Ev("a", "k") + "\r\n\r\n  \t \n" +
                     Ev("b", "k", R"("ts":1748722000007)") + "\n\n" +
                     Ev("c", "k");  // last line without a newline
  ASSERT_TRUE(Ndjson(body).ok());
  ASSERT_EQ(batch_.size(), 3u);
  EXPECT_EQ(batch_[0].device_id, "a");
  EXPECT_EQ(batch_[1].device_id, "b");
  EXPECT_EQ(batch_[1].ts, 1748722000007);
  EXPECT_EQ(batch_[2].device_id, "c");
}

// NDJSON sent without its Content-Type is read as one JSON document and fails; the error
// says what to do instead. A body that is simply broken gets no such hint.
TEST_F(ParseTest, NdjsonReadAsJsonGetsAContentTypeHint) {
  ExpectInvalid(Ev("a", "k") + "\n" + Ev("b", "k") + "\n", -1);
  Status s = Parse(Ev("a", "k") + "\r\n\r\n" + Ev("b", "k"));
  EXPECT_NE(s.message().find("looks like NDJSON"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("Content-Type: application/x-ndjson"), std::string::npos)
      << s.message();
  for (std::string broken : {std::string("{"), Ev("a", "k") + ",\n" + Ev("b", "k"),
                             std::string("not json\n") + Ev("b", "k"), Ev("a", "k") + "}"}) {
    s = Parse(broken);
    EXPECT_FALSE(s.ok()) << broken;
    EXPECT_EQ(s.message().find("NDJSON"), std::string::npos) << broken << ": " << s.message();
  }
}

TEST_F(ParseTest, EmptyBodiesAreErrors) {
  ExpectInvalid("[]", -1);
  ExpectInvalid(" [ ] ", -1);
  ExpectInvalid("", -1);
  ExpectInvalid("  \n ", -1);
  ExpectInvalid("", -1, BodyFormat::kNdjson);
  ExpectInvalid("\n\r\n \t\n\n", -1, BodyFormat::kNdjson);
}

TEST_F(ParseTest, EventsMustBeObjects) {
  for (const char* body : {"42", R"("str")", "null", "true", "[1]", "[[{}]]"}) {
    ExpectInvalid(body, 0);
  }
  ExpectInvalid(Ev("a", "k") + "\n[" + Ev("b", "k") + "]", 1, BodyFormat::kNdjson);
}

TEST_F(ParseTest, DeviceIdAndKindAreRequiredNonEmptyStrings) {
  ExpectInvalid(R"({"kind":"k"})", 0);
  ExpectInvalid(R"({"device_id":"d"})", 0);
  ExpectInvalid(R"({})", 0);
  ExpectInvalid(Ev("", "k"), 0);
  ExpectInvalid(Ev("d", ""), 0);
  for (const char* bad : {"1", "null", "true", "[\"d\"]", "{\"d\":1}", "1.5"}) {
    ExpectInvalid(std::string(R"({"kind":"k","device_id":)") + bad + "}", 0);
    ExpectInvalid(std::string(R"({"device_id":"d","kind":)") + bad + "}", 0);
  }
  // Field names are case-sensitive: "Device_id" is an unknown field, so device_id is missing.
  ExpectInvalid(R"({"Device_id":"d","kind":"k"})", 0);
}

TEST_F(ParseTest, ControlCharactersAreRejected) {
  for (const char* bad :
       {R"(a\u0001)", R"(\u0000)", R"(a\nb)", R"(\t)", R"(x\u001f)", R"(\u007f)", R"(a\rb)"}) {
    ExpectInvalid(Ev(bad, "k"), 0);
    ExpectInvalid(Ev("d", bad), 0);
  }
}

TEST_F(ParseTest, NonAsciiFieldsAreAcceptedAndUnescaped) {
  ASSERT_TRUE(Parse(Ev("caf\xc3\xa9", R"(\u00e9t\u00e9 \"q\" /)")).ok());
  EXPECT_EQ(batch_[0].device_id, "caf\xc3\xa9");
  EXPECT_EQ(batch_[0].kind, "\xc3\xa9t\xc3\xa9 \"q\" /");
}

TEST_F(ParseTest, FieldLengthLimitCountsDecodedBytes) {
  limits_.max_field_bytes = 4;
  EXPECT_TRUE(Parse(Ev("abcd", "wxyz")).ok());
  ExpectInvalid(Ev("abcde", "k"), 0);
  ExpectInvalid(Ev("d", "vwxyz"), 0);
  // "é" is two bytes: two fit, two and a bit do not. The escaped form's length is irrelevant.
  EXPECT_TRUE(Parse(Ev(R"(\u00e9\u00e9)", "\xc3\xa9\xc3\xa9")).ok());
  EXPECT_EQ(batch_[0].device_id, "\xc3\xa9\xc3\xa9");
  ExpectInvalid(Ev("\xc3\xa9\xc3\xa9x", "k"), 0);
}

TEST_F(ParseTest, DuplicateKnownFieldsAreErrors) {
  ExpectInvalid(R"({"device_id":"a","kind":"k","device_id":"a"})", 0);
  ExpectInvalid(R"({"device_id":"a","kind":"k","kind":"k2"})", 0);
  ExpectInvalid(R"({"device_id":"a","kind":"k","payload":1,"payload":1})", 0);
  ExpectInvalid(R"({"device_id":"a","kind":"k","payload":null,"payload":{}})", 0);
  ExpectInvalid(R"({"device_id":"a","kind":"k","ts":5,"ts":5})", 0);
  ExpectInvalid(R"({"device_id":"a","kind":"k","ts":null,"ts":5})", 0);
  ExpectInvalid("[" + Ev("a", "k") + "," + Ev("b", "k", R"("ts":1,"ts":2)") + "]", 1);
}

TEST_F(ParseTest, UnknownFieldsAreIgnored) {
  ASSERT_TRUE(Parse(R"({"x":1,"device_id":"d","extra":{"device_id":7},"kind":"k",)"
                    R"("x":[1,2],"tags":null,"":"","payloadx":true})")
                  .ok());
  ASSERT_EQ(batch_.size(), 1u);
  EXPECT_EQ(batch_[0].device_id, "d");
  EXPECT_FALSE(batch_[0].has_payload);
  EXPECT_EQ(batch_[0].ts, kNow);
}

TEST_F(ParseTest, AbsentOrNullPayloadHasNone) {
  EXPECT_EQ(OnlyPayload(""), "<none>");
  EXPECT_EQ(OnlyPayload(R"("payload":null)"), "<none>");
  EXPECT_EQ(OnlyPayload(R"("payload" : null )"), "<none>");
}

TEST_F(ParseTest, PayloadIsStoredCompacted) {
  EXPECT_EQ(OnlyPayload(R"("payload":{ "a" : [1, 2] })"), R"({"a":[1,2]})");
  EXPECT_EQ(OnlyPayload("\"payload\":\n[ {\"k\" :\t\"two words\" } , true, false,null ]"),
            R"([{"k":"two words"},true,false,null])");
  EXPECT_EQ(OnlyPayload(R"("payload":"just a string")"), R"("just a string")");
  EXPECT_EQ(OnlyPayload(R"("payload":42)"), "42");
  EXPECT_EQ(OnlyPayload(R"("payload":-7)"), "-7");
  EXPECT_EQ(OnlyPayload(R"("payload":false)"), "false");
  EXPECT_EQ(OnlyPayload(R"("payload":{})"), "{}");
  EXPECT_EQ(OnlyPayload(R"("payload":[])"), "[]");
  EXPECT_EQ(OnlyPayload(R"("payload":"")"), R"("")");
}

TEST_F(ParseTest, PayloadRoundTripsThroughAnIndependentParse) {
  const std::string payload =
      R"({"q":"say \"hi\"\\","u":"\u00e9\ud83d\ude00","f":1.5,"neg":-0.25,"big":18446744073709551615,)"
      R"("min":-9223372036854775808,"nested":{"a":[[],[{}],{"b":null}]}})";
  std::string stored = OnlyPayload("\"payload\": " + payload);
  simdjson::dom::parser pa, pb;
  simdjson::dom::element a, b;
  ASSERT_EQ(pa.parse(simdjson::padded_string(stored)).get(a), simdjson::SUCCESS) << stored;
  ASSERT_EQ(pb.parse(simdjson::padded_string(payload)).get(b), simdjson::SUCCESS);
  EXPECT_EQ(simdjson::minify(a), simdjson::minify(b));
  EXPECT_EQ(std::string_view(a["u"]), "\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(uint64_t(a["big"]), 18446744073709551615ull);
}

TEST_F(ParseTest, EscapedNulInPayloadIsKeptEscaped) {
  std::string stored = OnlyPayload(R"("payload":{"s":"a\u0000b"})");
  EXPECT_EQ(stored.find('\0'), std::string::npos) << "raw NUL in stored JSON";
  simdjson::dom::parser other;
  simdjson::dom::element e;
  ASSERT_EQ(other.parse(simdjson::padded_string(stored)).get(e), simdjson::SUCCESS) << stored;
  EXPECT_EQ(std::string_view(e["s"]), std::string_view("a\0b", 3));
}

TEST_F(ParseTest, RawNulInBodyIsRejected) {
  using namespace std::string_literals;
  ExpectInvalid("{\"device_id\":\"a\0b\",\"kind\":\"k\"}"s, -1);
  ExpectInvalid("{\"device_id\":\"a\",\0\"kind\":\"k\"}"s, -1);
  ExpectInvalid(Ev("a", "k") + "\0"s, -1);
  ExpectInvalid(Ev("a", "k") + "\n" + "{\"device_id\":\"\0\",\"kind\":\"k\"}"s, 1,
                BodyFormat::kNdjson);
}

TEST_F(ParseTest, PayloadSizeLimitAppliesAfterCompaction) {
  limits_.max_payload_bytes = 10;
  EXPECT_EQ(OnlyPayload(R"("payload":"12345678")"), R"("12345678")");  // exactly 10
  // Over the limit as sent, within it once compacted.
  EXPECT_EQ(OnlyPayload(R"("payload":[ 1 , 2 , 3 , 4 ])"), "[1,2,3,4]");
  ExpectInvalid(Ev("d", "k", R"("payload":"123456789")"), 0);  // 11 bytes
  std::string batch = "[" + Ev("a", "k") + "," + Ev("b", "k", R"("payload":[1])") + "," +
                      Ev("c", "k", R"("payload":{"long":"xxxxxxxx"})") + "," + Ev("d", "k") + "]";
  ExpectInvalid(batch, 2);
  ExpectInvalid(Ev("a", "k") + "\n" + Ev("b", "k", R"("payload":[1,2,3,4,5,6])"), 1,
                BodyFormat::kNdjson);
}

TEST_F(ParseTest, TimestampDefaultsToNow) {
  for (const char* extra : {"", R"("ts":0)", R"("ts":null)"}) {
    ASSERT_TRUE(Parse(Ev("d", "k", extra)).ok()) << extra;
    EXPECT_EQ(batch_[0].ts, kNow) << extra;
  }
}

// ts is unix milliseconds from 2000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z
// (docs/api.md, "Events").
TEST_F(ParseTest, TimestampIsKeptWhenValid) {
  for (int64_t ts :
       {int64_t{946'684'800'000}, int64_t{1'748'722'000'000}, int64_t{253'402'300'799'999}}) {
    ASSERT_TRUE(Parse(Ev("d", "k", "\"ts\":" + std::to_string(ts))).ok()) << ts;
    EXPECT_EQ(batch_[0].ts, ts);
  }
}

// Seconds, microseconds and nanoseconds would be stored as 1970 or as a far future: refused,
// naming the unit the number looks like and the value to send instead.
TEST_F(ParseTest, TimestampsInAnotherUnitAreRefusedWithTheFix) {
  const std::pair<const char*, std::vector<std::string>> cases[] = {
      {"1748722000", {"seconds", "1748722000000"}},
      {"1748722000123456", {"microseconds", "1748722000123"}},
      {"1748722000123456789", {"nanoseconds", "1748722000123"}},
      {"1", {"before 2000"}},
      {"946684799999", {"before 2000"}},
      {"253402300800000", {"after 9999"}},
      {"9223372036854775807", {"nanoseconds", "9223372036854"}},
  };
  for (const auto& [ts, words] : cases) {
    const std::string body = Ev("d", "k", std::string(R"("ts":)") + ts);
    ExpectInvalid(body, 0);
    Status s = Parse(body);
    EXPECT_NE(s.message().find("unix milliseconds"), std::string::npos) << s.message();
    for (const std::string& w : words) {
      EXPECT_NE(s.message().find(w), std::string::npos) << ts << ": " << s.message();
    }
  }
  // The same rule on every path that shares the parser: NDJSON and MQTT payloads.
  ExpectInvalid(Ev("a", "k") + "\n" + Ev("b", "k", R"("ts":1748722000)"), 1, BodyFormat::kNdjson);
  std::string mqtt = Ev("d", "k", R"("ts":1748722000)");
  bool not_json = true;
  Status s = ParseMqttPayload(simdjson::padded_string(mqtt), TopicFields{"t", "k"}, limits_, kNow,
                              parser_, &batch_, &not_json);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("seconds"), std::string::npos) << s.message();
  EXPECT_FALSE(not_json);
}

TEST_F(ParseTest, BadTimestampsAreErrors) {
  for (const char* ts : {"-1", "-9223372036854775808", "1.5", "-0.5", "9223372036854775808",
                         "18446744073709551615", R"("1700000000000")", "true", "{}", "[1]"}) {
    ExpectInvalid(Ev("d", "k", std::string(R"("ts":)") + ts), 0);
  }
}

// Numbers beyond double / 64-bit range fail the JSON parse itself, so the body is at fault.
TEST_F(ParseTest, HugeNumbersAnywhereAreErrors) {
  ExpectInvalid(Ev("d", "k", R"("ts":1e400)"), -1);
  ExpectInvalid(Ev("d", "k", R"("ts":99999999999999999999999)"), -1);
  ExpectInvalid(Ev("d", "k", R"("payload":1e400)"), -1);
  ExpectInvalid(Ev("d", "k", R"("payload":{"n":99999999999999999999999})"), -1);
  ExpectInvalid(Ev("d", "k", R"("other":-1e400)"), -1);
  ExpectInvalid(Ev("a", "k") + "\n" + Ev("d", "k", R"("payload":[1e400])"), 1, BodyFormat::kNdjson);
}

TEST_F(ParseTest, MaxEventsInArray) {
  limits_.max_events = 3;
  std::string three = "[" + Ev("a", "k") + "," + Ev("b", "k") + "," + Ev("c", "k") + "]";
  ASSERT_TRUE(Parse(three).ok());
  EXPECT_EQ(batch_.size(), 3u);
  std::string four = three.substr(0, three.size() - 1) + "," + Ev("d", "k") + "]";
  EXPECT_EQ(Parse(four).code(), Status::Code::kTooLarge);
  EXPECT_TRUE(batch_.empty());
}

TEST_F(ParseTest, MaxEventsInNdjsonCountsEventsNotLines) {
  limits_.max_events = 3;
  std::string three = Ev("a", "k") + "\n\n\n" + Ev("b", "k") + "\r\n\n" + Ev("c", "k") + "\n\n";
  ASSERT_TRUE(Ndjson(three).ok());
  EXPECT_EQ(batch_.size(), 3u);
  EXPECT_EQ(Ndjson(three + Ev("d", "k")).code(), Status::Code::kTooLarge);
  EXPECT_TRUE(batch_.empty());
}

TEST_F(ParseTest, BadEventInTheMiddleLeavesNothing) {
  ASSERT_TRUE(Parse(Ev("prev", "k")).ok());  // a previous request's events must not leak
  std::vector<std::string> events = {Ev("a", "k"), Ev("b", "k"), R"({"device_id":"c"})",
                                     Ev("d", "k"), Ev("e", "k")};
  std::string arr = "[", nd;
  for (const auto& e : events) {
    arr += (arr.size() > 1 ? "," : "") + e;
    nd += e + "\n";
  }
  ExpectInvalid(arr + "]", 2);
  ExpectInvalid(nd, 2, BodyFormat::kNdjson);
}

TEST_F(ParseTest, InvalidJsonIsReportedForTheWholeBody) {
  for (const char* body : {R"({"device_id":"a",)", R"({"device_id":"a","kind":"k"} x)",
                           R"([{"device_id":"a","kind":"k"},])", R"({device_id:"a"})", "[",
                           R"({"device_id":"a","kind":"k"}{"device_id":"b","kind":"k"})"}) {
    ExpectInvalid(body, -1);
  }
}

TEST_F(ParseTest, InvalidJsonInNdjsonNamesTheLine) {
  ExpectInvalid(Ev("a", "k") + "\n" + R"({"device_id":"b",)" + "\n" + Ev("c", "k"), 1,
                BodyFormat::kNdjson);
  ExpectInvalid(Ev("a", "k") + "\n" + Ev("b", "k") + Ev("c", "k"), 1, BodyFormat::kNdjson);
  // A JSON document split across lines is not NDJSON.
  ExpectInvalid("{\"device_id\":\"a\",\n\"kind\":\"k\"}", 0, BodyFormat::kNdjson);
}

TEST_F(ParseTest, InvalidUtf8IsRejected) {
  for (const char* bad : {"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    ExpectInvalid(Ev(bad, "k"), -1);
    ExpectInvalid(Ev("d", "k", std::string(R"("payload":")") + bad + "\""), -1);
    ExpectInvalid(Ev("d", "k", std::string(R"("unknown":")") + bad + "\""), -1);
    ExpectInvalid(Ev("a", "k") + "\n" + Ev("b", "k") + "\n" + Ev(bad, "k"), 2, BodyFormat::kNdjson);
  }
  // Escapes that would decode to invalid UTF-8 (lone surrogates) are rejected too.
  ExpectInvalid(Ev(R"(\ud800)", "k"), -1);
  ExpectInvalid(Ev("d", "k", R"("payload":"\udc00")"), -1);
}

TEST_F(ParseTest, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = std::string(2000, '[') + std::string(2000, ']');
  ExpectInvalid(Ev("d", "k", "\"payload\":" + deep), -1);
  ExpectInvalid(deep, -1);
  ExpectInvalid(Ev("a", "k") + "\n" + Ev("d", "k", "\"x\":" + deep), 1, BodyFormat::kNdjson);
  std::string deep_obj;
  for (int i = 0; i < 2000; ++i) deep_obj += R"({"a":)";
  ExpectInvalid(Ev("d", "k", "\"payload\":" + deep_obj + "1" + std::string(2000, '}')), -1);
  // The parser is still usable afterwards.
  ASSERT_TRUE(Parse(Ev("d", "k", R"("payload":[[[1]]])")).ok());
  EXPECT_EQ(batch_[0].payload_json, "[[[1]]]");
}

TEST_F(ParseTest, ReusedParserGivesIndependentResults) {
  std::string big = "[";
  for (int i = 0; i < 500; ++i) {
    big += (i ? "," : "") +
           Ev("dev" + std::to_string(i), "k", R"("payload":{"i":)" + std::to_string(i) + "}");
  }
  ASSERT_TRUE(Parse(big + "]").ok());
  ASSERT_EQ(batch_.size(), 500u);
  EXPECT_EQ(batch_[499].device_id, "dev499");
  EXPECT_EQ(batch_[499].payload_json, R"({"i":499})");
  ASSERT_TRUE(Ndjson(Ev("x", "y")).ok());
  ASSERT_EQ(batch_.size(), 1u);
  EXPECT_EQ(batch_[0].device_id, "x");
  EXPECT_FALSE(batch_[0].has_payload);
}

TEST(EventBatchTest, CopiesStringsAndKeepsThemAcrossGrowth) {
  EventBatch batch;
  std::string device = "device", payload = R"({"n":0})";
  batch.Add(device, "k0", payload, true, 10);
  device[0] = 'X';  // the batch holds its own copy
  payload.clear();
  for (int i = 1; i < 1000; ++i) {
    batch.Add("d" + std::to_string(i), "kind", "[" + std::to_string(i) + "]", i % 2 == 0, i);
  }
  ASSERT_EQ(batch.size(), 1000u);
  EXPECT_EQ(batch[0].device_id, "device");
  EXPECT_EQ(batch[0].payload_json, R"({"n":0})");
  EXPECT_TRUE(batch[0].has_payload);
  EXPECT_EQ(batch[0].ts, 10);
  EXPECT_EQ(batch[777].device_id, "d777");
  EXPECT_EQ(batch[777].payload_json, "[777]");
  EXPECT_FALSE(batch[777].has_payload);
  EXPECT_EQ(batch[777].ts, 777);
  batch.Clear();
  EXPECT_TRUE(batch.empty());
  batch.Add("a", "b", "", false, 1);
  EXPECT_EQ(batch[0].device_id, "a");
  EXPECT_EQ(batch[0].kind, "b");
}

}  // namespace
}  // namespace cistern
