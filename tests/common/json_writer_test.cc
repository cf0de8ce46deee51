// Tests for AppendJsonString and JsonWriter (src/common/json_writer.h). The writer's output is
// parsed back with simdjson, an independent parser, so the tests check what a client would
// read rather than restating the writer's own byte layout.
#include "common/json_writer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/utf8.h"

namespace cistern {
namespace {

// Parses `json` and returns its root; fails the test if it is not valid JSON.
simdjson::dom::element Parse(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::element root;
  auto ec = parser.parse(json).get(root);
  EXPECT_EQ(ec, simdjson::SUCCESS) << simdjson::error_message(ec) << " in: " << json;
  return root;
}

// Writes `s` with AppendJsonString and reads it back as a JSON string.
std::string RoundTrip(std::string_view s) {
  std::string json;
  AppendJsonString(&json, s);
  simdjson::dom::parser parser;
  simdjson::dom::element root = Parse(parser, json);
  std::string_view back;
  EXPECT_EQ(root.get_string().get(back), simdjson::SUCCESS) << json;
  return std::string(back);
}

TEST(AppendJsonStringTest, PlainTextIsQuoted) {
  std::string out;
  AppendJsonString(&out, "hello");
  EXPECT_EQ(out, "\"hello\"");
  std::string empty;
  AppendJsonString(&empty, "");
  EXPECT_EQ(empty, "\"\"");
}

TEST(AppendJsonStringTest, AppendsWithoutTouchingExistingContent) {
  std::string out = "prefix:";
  AppendJsonString(&out, "x");
  EXPECT_EQ(out, "prefix:\"x\"");
}

TEST(AppendJsonStringTest, QuotesAndBackslashesAreEscaped) {
  std::string out;
  AppendJsonString(&out, R"(say "hi" \ bye)");
  EXPECT_EQ(out, R"("say \"hi\" \\ bye")");
  EXPECT_EQ(RoundTrip(R"(a"b\c\"d\\)"), R"(a"b\c\"d\\)");
  EXPECT_EQ(RoundTrip("\\"), "\\");
  EXPECT_EQ(RoundTrip("\""), "\"");
}

TEST(AppendJsonStringTest, EveryControlCharacterIsEscaped) {
  for (int c = 0; c < 0x20; ++c) {
    std::string input = "a";
    input.push_back(static_cast<char>(c));
    input += "b";
    std::string json;
    AppendJsonString(&json, input);
    // JSON forbids raw control characters inside strings.
    for (char ch : json) {
      EXPECT_GE(static_cast<unsigned char>(ch), 0x20) << "raw control char " << c << " in " << json;
    }
    EXPECT_EQ(RoundTrip(input), input) << "control char " << c;
  }
}

TEST(AppendJsonStringTest, ControlCharactersUseShortOrUnicodeEscapes) {
  std::string out;
  AppendJsonString(&out, std::string_view("\x01\n\r\t\x1f", 5));
  EXPECT_EQ(out, R"("\u0001\n\r\t\u001f")");
}

TEST(AppendJsonStringTest, NulByteIsEscapedAndSurvives) {
  std::string input("a\0b", 3);
  std::string json;
  AppendJsonString(&json, input);
  EXPECT_EQ(json.find('\0'), std::string::npos);
  EXPECT_EQ(RoundTrip(input), input);
}

TEST(AppendJsonStringTest, Utf8PassesThroughUnchanged) {
  const std::string input = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac";
  std::string json;
  AppendJsonString(&json, input);
  EXPECT_EQ(json, "\"" + input + "\"");
  EXPECT_EQ(RoundTrip(input), input);
}

TEST(AppendJsonStringTest, InvalidUtf8IsReplacedNotCopied) {
  // GET /\xff\xfe\x80 was echoed raw into the 404 body (issue 15.6): not JSON for a strict
  // reader.
  std::string json;
  AppendJsonString(&json,
                   "/\xff\xfe\x80"
                   "a\xc0");
  EXPECT_EQ(json,
            "\"/\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
            "a\xef\xbf\xbd\"");
}

TEST(AppendJsonStringTest, DelAndSlashNeedNoEscape) {
  // 0x7f and '/' are legal unescaped in JSON; whatever the writer does must read back intact.
  EXPECT_EQ(RoundTrip("a\x7f/b"), "a\x7f/b");
}

// The byte-at-a-time writer AppendJsonString replaced (it now copies runs of plain bytes in one
// go): the exact bytes it wrote are the contract, stored payloads depend on them.
std::string ReferenceJsonString(std::string_view s) {
  std::string valid = ValidUtf8(s);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : valid) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

TEST(AppendJsonStringTest, RunsBetweenEscapesAreExact) {
  std::string out = "x";
  AppendJsonString(&out,
                   "ab\"cd\\\n\x01\x1f"
                   "\xc3\xa9z\t\r\x7f/");
  EXPECT_EQ(out, "x\"ab\\\"cd\\\\\\n\\u0001\\u001f\xc3\xa9z\\t\\r\x7f/\"");
  out.clear();
  AppendJsonString(&out, "\"");  // an escape only, at both ends
  EXPECT_EQ(out, "\"\\\"\"");
  out.clear();
  AppendJsonString(&out, "");
  EXPECT_EQ(out, "\"\"");
}

TEST(AppendJsonStringTest, InvalidUtf8AmongEscapesIsReplacedAndEscaped) {
  std::string out;
  AppendJsonString(&out,
                   "\n\xff\"\xe2\x82"
                   "a\xf0\x9f\x98\x80\x01\xed\xa0\x80");
  EXPECT_EQ(out,
            "\"\\n\xef\xbf\xbd\\\"\xef\xbf\xbd"
            "a\xf0\x9f\x98\x80\\u0001\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}

TEST(AppendJsonStringTest, MatchesTheByteAtATimeWriterOnRandomText) {
  // Random strings over an alphabet of escapes, ASCII, valid multi-byte characters and invalid
  // bytes, of lengths around the block sizes a vectorised scan might use.
  const std::vector<std::string> pieces = {"a",
                                           "Z",
                                           " ",
                                           "/",
                                           "\x7f",
                                           "\"",
                                           "\\",
                                           "\n",
                                           "\r",
                                           "\t",
                                           "\b",
                                           "\x01",
                                           "\x1f",
                                           std::string(1, '\0'),
                                           "\xc3\xa9",
                                           "\xe2\x82\xac",
                                           "\xf0\x9f\x98\x80",
                                           "\xff",
                                           "\x80",
                                           "\xc0",
                                           "\xe2\x82",
                                           "\xed\xa0\x80",
                                           "\xf4\x90\x80\x80",
                                           "0123456789abcdef0123456789abcdef"};
  std::mt19937 rng(12);
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const size_t n = rng() % 40;
    for (size_t j = 0; j < n; ++j) s += pieces[rng() % pieces.size()];
    std::string out = "prefix";
    AppendJsonString(&out, s);
    ASSERT_EQ(out, "prefix" + ReferenceJsonString(s)) << testing::PrintToString(s);
  }
  for (int c = 0; c < 256; ++c) {  // every byte alone and inside plain text
    for (const std::string& s : {std::string(1, static_cast<char>(c)),
                                 "abc" + std::string(1, static_cast<char>(c)) + "def"}) {
      std::string out;
      AppendJsonString(&out, s);
      ASSERT_EQ(out, ReferenceJsonString(s)) << c;
    }
  }
}

TEST(JsonWriterTest, EmptyContainers) {
  JsonWriter o;
  o.BeginObject();
  o.EndObject();
  EXPECT_EQ(o.str(), "{}");
  JsonWriter a;
  a.BeginArray();
  a.EndArray();
  EXPECT_EQ(a.str(), "[]");
}

TEST(JsonWriterTest, FlatObjectHasOneCommaBetweenMembers) {
  JsonWriter w;
  w.BeginObject();
  w.Key("a");
  w.Int(1);
  w.Key("b");
  w.String("x");
  w.Key("c");
  w.Bool(true);
  w.Key("d");
  w.Null();
  w.EndObject();
  EXPECT_EQ(w.str(), R"({"a":1,"b":"x","c":true,"d":null})");
}

TEST(JsonWriterTest, NestedContainersParseBackToTheSameValues) {
  JsonWriter w;
  w.BeginObject();
  w.Key("empty_obj");
  w.BeginObject();
  w.EndObject();
  w.Key("list");
  w.BeginArray();
  w.Int(1);
  w.BeginObject();
  w.Key("inner");
  w.BeginArray();
  w.EndArray();
  w.Key("k");
  w.String("v");
  w.EndObject();
  w.BeginArray();
  w.Bool(false);
  w.Null();
  w.EndArray();
  w.BeginObject();
  w.EndObject();
  w.String("last");
  w.EndArray();
  w.Key("after");
  w.Uint(7);
  w.EndObject();

  simdjson::dom::parser parser;
  simdjson::dom::element root = Parse(parser, w.str());
  simdjson::dom::object obj;
  ASSERT_EQ(root.get_object().get(obj), simdjson::SUCCESS);
  EXPECT_EQ(obj.size(), 3u);
  simdjson::dom::object empty_obj;
  ASSERT_EQ(obj["empty_obj"].get_object().get(empty_obj), simdjson::SUCCESS);
  EXPECT_EQ(empty_obj.size(), 0u);

  simdjson::dom::array list;
  ASSERT_EQ(obj["list"].get_array().get(list), simdjson::SUCCESS);
  ASSERT_EQ(list.size(), 5u);
  EXPECT_EQ(int64_t(list.at(0)), 1);
  simdjson::dom::array inner;
  ASSERT_EQ(list.at(1)["inner"].get_array().get(inner), simdjson::SUCCESS);
  EXPECT_EQ(inner.size(), 0u);
  EXPECT_EQ(std::string_view(list.at(1)["k"]), "v");
  simdjson::dom::array pair;
  ASSERT_EQ(list.at(2).get_array().get(pair), simdjson::SUCCESS);
  ASSERT_EQ(pair.size(), 2u);
  EXPECT_FALSE(bool(pair.at(0)));
  EXPECT_TRUE(pair.at(1).is_null());
  simdjson::dom::object trailing;
  ASSERT_EQ(list.at(3).get_object().get(trailing), simdjson::SUCCESS);
  EXPECT_EQ(trailing.size(), 0u);
  EXPECT_EQ(std::string_view(list.at(4)), "last");
  EXPECT_EQ(uint64_t(obj["after"]), 7u);
}

TEST(JsonWriterTest, KeysAreEscaped) {
  JsonWriter w;
  w.BeginObject();
  w.Key("we\"ird\\key\n");
  w.Int(1);
  w.EndObject();
  simdjson::dom::parser parser;
  simdjson::dom::element root = Parse(parser, w.str());
  int64_t v = 0;
  ASSERT_EQ(root["we\"ird\\key\n"].get_int64().get(v), simdjson::SUCCESS) << w.str();
  EXPECT_EQ(v, 1);
}

TEST(JsonWriterTest, IntegerExtremesRoundTrip) {
  JsonWriter w;
  w.BeginArray();
  w.Int(std::numeric_limits<int64_t>::min());
  w.Int(std::numeric_limits<int64_t>::max());
  w.Int(0);
  w.Int(-1);
  w.Uint(std::numeric_limits<uint64_t>::max());
  w.EndArray();
  simdjson::dom::parser parser;
  simdjson::dom::array arr;
  ASSERT_EQ(Parse(parser, w.str()).get_array().get(arr), simdjson::SUCCESS);
  ASSERT_EQ(arr.size(), 5u);
  EXPECT_EQ(int64_t(arr.at(0)), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(int64_t(arr.at(1)), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(int64_t(arr.at(2)), 0);
  EXPECT_EQ(int64_t(arr.at(3)), -1);
  EXPECT_EQ(uint64_t(arr.at(4)), std::numeric_limits<uint64_t>::max());
}

TEST(JsonWriterTest, DoublesAreValidJsonAndNonFiniteBecomesNull) {
  JsonWriter w;
  w.BeginArray();
  w.Double(1.5);
  w.Double(-0.25);
  w.Double(12345.678);
  w.Double(std::nan(""));
  w.Double(std::numeric_limits<double>::infinity());
  w.Double(-std::numeric_limits<double>::infinity());
  w.EndArray();
  simdjson::dom::parser parser;
  simdjson::dom::array arr;
  ASSERT_EQ(Parse(parser, w.str()).get_array().get(arr), simdjson::SUCCESS);
  ASSERT_EQ(arr.size(), 6u);
  EXPECT_DOUBLE_EQ(double(arr.at(0)), 1.5);
  EXPECT_DOUBLE_EQ(double(arr.at(1)), -0.25);
  EXPECT_NEAR(double(arr.at(2)), 12345.678, 1e-3);
  EXPECT_TRUE(arr.at(3).is_null()) << w.str();
  EXPECT_TRUE(arr.at(4).is_null()) << w.str();
  EXPECT_TRUE(arr.at(5).is_null()) << w.str();
}

TEST(JsonWriterTest, StringValuesWithSpecialCharactersRoundTrip) {
  static constexpr char kRaw[] = "q\"b\\n\nt\tc\x01z\0end\xc3\xa9";
  const std::string tricky(kRaw, sizeof(kRaw) - 1);
  JsonWriter w;
  w.BeginObject();
  w.Key("s");
  w.String(tricky);
  w.Key("n");
  w.Int(2);
  w.EndObject();
  simdjson::dom::parser parser;
  simdjson::dom::element root = Parse(parser, w.str());
  std::string_view s;
  ASSERT_EQ(root["s"].get_string().get(s), simdjson::SUCCESS);
  EXPECT_EQ(s, tricky);
  EXPECT_EQ(int64_t(root["n"]), 2);
}

TEST(JsonWriterTest, TakeReturnsTheDocument) {
  JsonWriter w;
  w.BeginObject();
  w.Key("ok");
  w.Bool(true);
  w.EndObject();
  std::string expected = w.str();
  EXPECT_EQ(w.Take(), expected);
  EXPECT_EQ(expected, R"({"ok":true})");
}

}  // namespace
}  // namespace cistern
