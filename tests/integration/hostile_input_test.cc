// Hostile request bodies over a real socket: each gets a clear 400 (with the event's index
// when it is one event's fault) or is stored verbatim — never a crash, never a partial batch.
// Every hostile event sits in the middle of a batch of good ones.
#include <string>

#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

class HostileInputTest : public ServerTest {
 protected:
  // [good, hostile, good] as one request.
  HttpResult PostSandwich(const std::string& hostile) {
    return client_->Post("/events", R"([{"device_id":"a","kind":"t"},)" + hostile +
                                        R"(,{"device_id":"c","kind":"t"}])");
  }
  void ExpectRejected(const std::string& hostile, const std::string& why) {
    auto r = PostSandwich(hostile);
    EXPECT_EQ(r.status, 400) << why << ": " << r.body;
    EXPECT_NE(r.body.find("\"error\""), std::string::npos) << why;
    EXPECT_EQ(Rows(), 0) << why << ": part of a rejected batch was stored";
    EXPECT_EQ(client_->Get("/healthz").status, 200) << why << ": the server is not fine";
  }
};

TEST_F(HostileInputTest, InvalidUtf8IsRejected) {
  Start();
  ExpectRejected("{\"device_id\":\"\xff\xfe\",\"kind\":\"t\"}", "invalid UTF-8 in a field");
  ExpectRejected("{\"device_id\":\"a\",\"kind\":\"t\",\"payload\":\"\xc3\x28\"}",
                 "invalid UTF-8 in the payload");
}

TEST_F(HostileInputTest, DeepNestingIsRejected) {
  Start();
  std::string deep = std::string(5000, '[') + std::string(5000, ']');
  ExpectRejected(R"({"device_id":"a","kind":"t","payload":)" + deep + "}", "5000 levels");
}

TEST_F(HostileInputTest, RawNulBytesAreRejectedAndEscapedOnesStoredVerbatim) {
  Start();
  ExpectRejected(std::string("{\"device_id\":\"a\0b\",\"kind\":\"t\"}", 30), "raw NUL");
  ExpectRejected(R"({"device_id":"a\u0000b","kind":"t"})", "NUL in device_id");
  auto r = PostSandwich(R"({"device_id":"b","kind":"t","payload":{"s":"x\u0000y"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(QueryRows(db(), "SELECT payload_json FROM events WHERE device_id='b'")[0][0],
            R"({"s":"x\u0000y"})");
}

TEST_F(HostileInputTest, HugeNumbersAreRejected) {
  Start();
  ExpectRejected(R"({"device_id":"a","kind":"t","ts":99999999999999999999999})", "huge ts");
  ExpectRejected(R"({"device_id":"a","kind":"t","payload":1e999})", "1e999 payload");
  ExpectRejected(R"({"device_id":"a","kind":"t","ts":9223372036854775808})", "ts past int64");
}

TEST_F(HostileInputTest, DuplicateKeysAreRejectedForFieldsAndKeptInPayloads) {
  Start();
  ExpectRejected(R"({"device_id":"a","device_id":"b","kind":"t"})", "two device_ids");
  auto r = PostSandwich(R"({"device_id":"b","kind":"t","payload":{"k":1,"k":2}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(QueryRows(db(), "SELECT payload_json FROM events WHERE device_id='b'")[0][0],
            R"({"k":1,"k":2})");
}

TEST_F(HostileInputTest, SqlLookingStringsAreStoredVerbatimAndHarmless) {
  Start();
  const std::string nasty = R"(x'); DROP TABLE events; --)";
  auto r = PostSandwich(R"({"device_id":"x'); DROP TABLE events; --","kind":"t' OR '1'='1",)"
                        R"("payload":{"q":"'; DELETE FROM events; --"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Rows(), 3);
  auto rows = QueryRows(db(), "SELECT device_id, kind, payload_json FROM events WHERE id = " +
                                  std::to_string(ParseIds(r.body)[1]));
  EXPECT_EQ(rows[0][0], nasty);
  EXPECT_EQ(rows[0][1], "t' OR '1'='1");
  EXPECT_EQ(rows[0][2], R"({"q":"'; DELETE FROM events; --"})");
}

TEST_F(HostileInputTest, WrongShapesAreRejected) {
  Start();
  ExpectRejected("42", "a number");
  ExpectRejected(R"("a string")", "a string");
  ExpectRejected("null", "null");
  ExpectRejected(R"({"device_id":["a"],"kind":"t"})", "array device_id");
  ExpectRejected(R"({"device_id":"a","kind":{"x":1}})", "object kind");
  ExpectRejected(R"({"device_id":"a","kind":"t","ts":1.5})", "fractional ts");
  ExpectRejected(R"({"device_id":")" + std::string(300, 'd') + R"(","kind":"t"})",
                 "device_id over 256 bytes");
  auto r = client_->Post("/events", "");
  EXPECT_EQ(r.status, 400);
  r = client_->Post("/events", "[]");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Rows(), 0);
}

}  // namespace
}  // namespace cistern::testing
