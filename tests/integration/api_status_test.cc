// Every status of the API table (docs/api.md) against the real binary over a real
// socket; every rejected request is checked to have stored nothing (SQLite, read directly).
#include <chrono>
#include <string>

#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

constexpr const char* kEvent = R"({"device_id":"sensor-001","kind":"telemetry",)"
                               R"("payload":{"temp_c": 21.4, "ok": true},"ts":1748722000000})";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class ApiTest : public ServerTest {};

TEST_F(ApiTest, SingleEventIsStoredAndItsIdReturned) {
  Start();
  auto r = client_->Post("/events", kEvent, {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(JsonInt(r.body, "/accepted"), 1);
  auto ids = ParseIds(r.body);
  ASSERT_EQ(ids.size(), 1u);
  auto rows = QueryRows(db(),
                        "SELECT id, device_id, kind, payload_json, ts, uploaded_at "
                        "FROM events");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], std::to_string(ids[0]));
  EXPECT_EQ(rows[0][1], "sensor-001");
  EXPECT_EQ(rows[0][2], "telemetry");
  EXPECT_EQ(rows[0][3], R"({"temp_c":21.4,"ok":true})");  // stored compacted
  EXPECT_EQ(rows[0][4], "1748722000000");
  EXPECT_EQ(rows[0][5], "NULL");  // in the backlog
}

TEST_F(ApiTest, ArrayIsStoredWholeWithConsecutiveIds) {
  Start();
  auto r = client_->Post("/events", R"([{"device_id":"a","kind":"t"},)"
                                    R"({"device_id":"b","kind":"error","payload":[1,2]},)"
                                    R"({"device_id":"c","kind":"t","payload":"x"}])");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(JsonInt(r.body, "/accepted"), 3);
  auto ids = ParseIds(r.body);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[1], ids[0] + 1);
  EXPECT_EQ(ids[2], ids[0] + 2);
  auto rows = QueryRows(db(), "SELECT device_id, payload_json FROM events ORDER BY id");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0], "a");
  EXPECT_EQ(rows[0][1], "NULL");
  EXPECT_EQ(rows[1][1], "[1,2]");
  EXPECT_EQ(rows[2][1], "\"x\"");
}

TEST_F(ApiTest, NdjsonBodyIsOneEventPerLine) {
  Start();
  auto r = client_->Post("/events",
                         "{\"device_id\":\"a\",\"kind\":\"t\"}\r\n\n"
                         "{\"device_id\":\"b\",\"kind\":\"t\"}\n",
                         {{"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(JsonInt(r.body, "/accepted"), 2);
  EXPECT_EQ(Rows(), 2);
}

TEST_F(ApiTest, GzipBodyIsAccepted) {
  Start();
  auto r = client_->Post("/events", Gzip(kEvent), {{"Content-Encoding", "gzip"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Rows(), 1);
}

TEST_F(ApiTest, MissingTimestampIsStampedByTheServer) {
  Start();
  int64_t before = NowMs();
  auto r = client_->Post("/events", R"({"device_id":"a","kind":"t","ts":0})");
  int64_t after = NowMs();
  ASSERT_EQ(r.status, 200) << r.body;
  int64_t ts = QueryInt(db(), "SELECT ts FROM events");
  EXPECT_GE(ts, before);
  EXPECT_LE(ts, after);
}

TEST_F(ApiTest, BadJsonIs400AndStoresNothing) {
  Start();
  auto r = client_->Post("/events", R"({"device_id":"a","kind":)");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(JsonString(r.body, "/error").find("invalid JSON"), std::string::npos) << r.body;
  EXPECT_EQ(Rows(), 0);
}

TEST_F(ApiTest, MissingOrWrongTypedFieldIs400NamingTheField) {
  Start();
  auto r = client_->Post("/events", R"({"device_id":"a"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("kind"), std::string::npos) << r.body;
  r = client_->Post("/events", R"({"device_id":7,"kind":"t"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("device_id must be a string"), std::string::npos) << r.body;
  r = client_->Post("/events", R"({"device_id":"a","kind":"t","ts":-5})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Rows(), 0);
}

TEST_F(ApiTest, OneBadEventInTheMiddleOfABatchStoresZeroEvents) {
  Start();
  auto r = client_->Post("/events", R"([{"device_id":"a","kind":"t"},)"
                                    R"({"device_id":"b","kind":"t"},)"
                                    R"({"device_id":"c","kind":""},)"
                                    R"({"device_id":"d","kind":"t"}])");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(JsonInt(r.body, "/index"), 2) << r.body;
  EXPECT_EQ(Rows(), 0);
  // The same batch fixed is stored whole.
  r = client_->Post("/events", R"([{"device_id":"a","kind":"t"},{"device_id":"c","kind":"t"}])");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Rows(), 2);
}

TEST_F(ApiTest, OversizedPayloadIs400NamingTheIndex) {
  Start({"--max-payload-bytes", "1KiB"});
  std::string big(2000, 'x');
  auto r = client_->Post("/events", R"([{"device_id":"a","kind":"t"},)"
                                    R"({"device_id":"b","kind":"t","payload":")" +
                                        big + R"("}])");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(JsonInt(r.body, "/index"), 1) << r.body;
  EXPECT_NE(r.body.find("payload"), std::string::npos);
  EXPECT_EQ(Rows(), 0);
}

TEST_F(ApiTest, OversizedBodyIs413AndStoresNothing) {
  Start({"--max-body-bytes", "4KiB"});
  std::string body =
      R"({"device_id":"a","kind":"t","payload":")" + std::string(8000, 'y') + R"("})";
  auto r = client_->Post("/events", body);
  EXPECT_EQ(r.status, 413) << r.error;
  EXPECT_NE(r.body.find("limit"), std::string::npos) << r.body;
  EXPECT_EQ(Rows(), 0);
  // The server is still fine for the next client.
  HttpClient other("127.0.0.1", server_->port());
  EXPECT_EQ(other.Post("/events", kEvent).status, 200);
}

TEST_F(ApiTest, TooManyEventsIs413) {
  Start({"--max-batch-events", "10"});
  std::string body = "[";
  for (int i = 0; i < 11; ++i)
    body += std::string(i ? "," : "") + R"({"device_id":"a","kind":"t"})";
  body += "]";
  auto r = client_->Post("/events", body);
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("too many events"), std::string::npos) << r.body;
  EXPECT_EQ(Rows(), 0);
}

TEST_F(ApiTest, GzipBombIsStoppedAtTheDecompressedLimit) {
  Start({"--max-body-bytes", "64KiB"});
  std::string bomb = Gzip(std::string(10 << 20, ' '));  // 10 MiB of spaces, ~45 KiB gzipped
  ASSERT_LT(bomb.size(), 64u * 1024);
  auto r = client_->Post("/events", bomb, {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(Rows(), 0);
}

TEST_F(ApiTest, CorruptGzipIs400) {
  Start();
  auto r = client_->Post("/events", "not gzip at all", {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("gzip"), std::string::npos) << r.body;
  EXPECT_EQ(Rows(), 0);
}

TEST_F(ApiTest, UnsupportedContentEncodingIs415) {
  Start();
  auto r = client_->Post("/events", kEvent, {{"Content-Encoding", "br"}});
  EXPECT_EQ(r.status, 415);
  EXPECT_NE(r.body.find("br"), std::string::npos) << r.body;
  EXPECT_EQ(Rows(), 0);
}

TEST_F(ApiTest, FullBufferIs503WithRetryAfterAndStoresNothing) {
  Start({"--max-backlog", "5"});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(client_->Post("/events", kEvent).status, 200);
  // 3 + 3 > 5: the whole batch is refused, not 2 of its 3 events.
  auto r = client_->Post("/events", std::string("[") + kEvent + "," + kEvent + "," + kEvent + "]");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.Header("retry-after"), "1");
  EXPECT_EQ(JsonString(r.body, "/error").rfind("buffer full: ", 0), 0u) << r.body;
  EXPECT_NE(JsonString(r.body, "/error")
                .find("2 of the 3 events in this request would fit now (3 stored and waiting for "
                      "upload; --max-backlog 5); retry later"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(JsonInt(r.body, "/backlog"), 3);
  EXPECT_EQ(Rows(), 3);
  ASSERT_EQ(client_->Post("/events", std::string("[") + kEvent + "," + kEvent + "]").status, 200);
  EXPECT_EQ(client_->Post("/events", kEvent).status, 503);
  EXPECT_EQ(Rows(), 5);
  auto h = client_->Get("/healthz");
  EXPECT_EQ(h.status, 503);
  EXPECT_EQ(h.body.find("\"backlog_ok\":false") != std::string::npos, true) << h.body;
}

// Issue 16.1: liveness, readiness and upstream are separate signals. Over the bound with
// drop-oldest the collector still stores events: ready. With reject it is not ready, but alive.
TEST_F(ApiTest, ReadinessMeansEventsWouldBeStoredAndLivenessThatTheProcessAnswers) {
  Start({"--max-backlog", "2", "--on-full", "drop-oldest"});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(client_->Post("/events", kEvent).status, 200);
  EXPECT_EQ(client_->Get("/readyz").status, 200);
  EXPECT_EQ(client_->Get("/healthz").status, 200);
  EXPECT_EQ(client_->Get("/livez").status, 200);
  auto m = client_->Get("/metrics");
  EXPECT_NE(m.body.find("\ncistern_ready 1\n"), std::string::npos) << m.body;
  server_->Stop();

  // The same file (2 pending) under reject: full, so not ready; still alive.
  Start({"--max-backlog", "2"});
  EXPECT_EQ(client_->Post("/events", kEvent).status, 503);
  auto r = client_->Get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("\"ready\":false"), std::string::npos) << r.body;
  EXPECT_EQ(client_->Get("/livez").status, 200);
  m = client_->Get("/metrics");
  EXPECT_NE(m.body.find("\ncistern_ready 0\n"), std::string::npos) << m.body;
}

TEST_F(ApiTest, BatchLargerThanTheWholeBufferIs413NotAnEndless503) {
  Start({"--max-backlog", "2"});
  auto r = client_->Post("/events", std::string("[") + kEvent + "," + kEvent + "," + kEvent + "]");
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(Rows(), 0);
}

TEST_F(ApiTest, UnknownRouteIs404AndWrongMethodIs405) {
  Start();
  auto r = client_->Get("/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_FALSE(JsonString(r.body, "/error").empty());
  r = client_->Get("/events");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "POST");
  r = client_->Post("/stats", "{}");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "GET");
  EXPECT_EQ(Rows(), 0);
}

TEST_F(ApiTest, HealthzAndStatsReportTheStore) {
  Start({"--max-backlog", "100"});
  ASSERT_EQ(client_
                ->Post("/events", R"([{"device_id":"a","kind":"t"},)"
                                  R"({"device_id":"b","kind":"t"},)"
                                  R"({"device_id":"a","kind":"t"}])")
                .status,
            200);
  auto h = client_->Get("/healthz");
  ASSERT_EQ(h.status, 200);
  EXPECT_EQ(JsonInt(h.body, "/backlog"), 3);
  EXPECT_NE(h.body.find("\"backlog_ok\":true"), std::string::npos) << h.body;
  auto s = client_->Get("/stats");
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(JsonString(s.body, "/store/mode"), "group");
  EXPECT_EQ(JsonInt(s.body, "/store/events_written"), 3);
  EXPECT_EQ(JsonInt(s.body, "/store/backlog"), 3);
  EXPECT_EQ(JsonInt(s.body, "/store/devices_seen"), 2);
  EXPECT_EQ(JsonInt(s.body, "/store/commit_conflicts"), 0);
  EXPECT_GE(JsonInt(s.body, "/store/commits"), 1);
  EXPECT_GE(JsonInt(s.body, "/store/commit_latency_ms/count"), 1);
  EXPECT_EQ(JsonString(s.body, "/store/node_id").size(), 16u);
}

TEST_F(ApiTest, MalformedHttpIs400AndTheConnectionCloses) {
  Start();
  std::string got =
      RawExchange(server_->port(), "POST /events HTTP/1.1\r\nContent-Length: x\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
  EXPECT_EQ(Rows(), 0);
}

}  // namespace
}  // namespace cistern::testing
