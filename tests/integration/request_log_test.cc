// The request log (docs/api.md, "Logging"): at debug one line per request with what each
// layer decided; at info the refusals, one line per 10 s with their count (issue 16: rejected
// requests were never logged, and debug added nothing).
#include <string>

#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

class RequestLogTest : public ServerTest {
 protected:
  static size_t Occurrences(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }
};

TEST_F(RequestLogTest, DebugSaysWhatEachLayerDecidedOnOneLine) {
  Start({"--log-level", "debug", "--max-backlog", "2"});
  ASSERT_EQ(
      client_->Post("/events", R"([{"device_id":"a","kind":"t"},{"device_id":"b","kind":"t"}])")
          .status,
      200);
  ASSERT_EQ(client_->Post("/events", R"({"device_id":"a","kind":"t","ts":"x"})").status, 400);
  ASSERT_EQ(client_->Post("/events", R"({"device_id":"a","kind":"t"})").status, 503);
  ASSERT_EQ(client_->Get("/nope").status, 404);
  RawExchange(server_->port(), "GET /healthz HTTP/1.1\r\n\r\n");
  const std::string log = server_->Log();
  EXPECT_NE(log.find("POST /events -> 200: screen ok; route /events; parse 2 event(s) (json); "
                     "store ok (ids 1-2)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("POST /events -> 400: screen ok; route /events; parse refused: ts must be"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("POST /events -> 503: screen ok; route /events; parse 1 event(s) (json); "
                     "store refused: buffer full"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("GET /nope -> 404: screen ok; route none"), std::string::npos) << log;
  EXPECT_NE(log.find("GET /healthz -> 400: screen refused: missing Host header"), std::string::npos)
      << log;
}

TEST_F(RequestLogTest, InfoLogsRefusalsRateLimitedWithTheLatestReason) {
  Start();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(client_->Post("/events", "{not json").status, 400);
  }
  ASSERT_EQ(client_->Post("/events", R"({"device_id":"a","kind":"t"})").status, 200);
  const std::string log = server_->Log();
  // The first refusal is logged at once; the next four fall in the same 10 s window.
  EXPECT_EQ(Occurrences(log,
                        "refused 1 request(s) in the last 10 s; latest: POST /events -> "
                        "400: screen ok; route /events; parse refused: invalid JSON"),
            1u)
      << log;
  EXPECT_EQ(Occurrences(log, "refused "), 1u) << log;
  EXPECT_EQ(log.find("-> 200"), std::string::npos) << "no per-request line at info:\n" << log;
}

}  // namespace
}  // namespace cistern::testing
