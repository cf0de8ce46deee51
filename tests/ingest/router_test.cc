// The router without sockets: request in, response out (Beast's handle_request pattern).
#include "ingest/router.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <future>

#include "ingest/http_types.h"
#include "support/http_client.h"
#include "support/sqlite_peek.h"
#include "support/temp_dir.h"

namespace cistern::testing {
namespace {

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.path = dir_.File("events.db");
    o.max_backlog = 100;
    auto s = Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = s.value();
    RouterOptions ro;
    ro.max_body_bytes = 4096;
    router_ = std::make_unique<Router>(store_, ro);
  }

  Response Send(http::verb method, const std::string& target, const std::string& body = "",
                std::map<std::string, std::string> headers = {}) {
    Request req{method, target, 11};
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    std::promise<Response> p;
    auto f = p.get_future();
    router_->Handle(
        std::move(req), [](std::function<void()> fn) { fn(); },
        [&p](Response&& r) { p.set_value(std::move(r)); });
    return f.get();
  }

  static bool IsJson(const std::string& s) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(s);
    simdjson::dom::element e;
    return !parser.parse(padded).get(e);
  }

  TempDir dir_;
  std::shared_ptr<Store> store_;
  std::unique_ptr<Router> router_;
};

TEST_F(RouterTest, EveryAnswerIsJsonWithTheRightContentType) {
  for (auto [method, target] : {std::pair{http::verb::get, "/stats"},
                                {http::verb::get, "/healthz"},
                                {http::verb::get, "/missing"},
                                {http::verb::delete_, "/events"}}) {
    Response r = Send(method, target);
    EXPECT_TRUE(IsJson(r.body())) << target << ": " << r.body();
    EXPECT_EQ(r[http::field::content_type], "application/json");
  }
}

TEST_F(RouterTest, QueryStringsDoNotChangeTheRoute) {
  EXPECT_EQ(Send(http::verb::get, "/healthz?verbose=1").result(), http::status::ok);
}

TEST_F(RouterTest, NdjsonIsRecognisedWhateverTheCaseAndParameters) {
  Response r = Send(http::verb::post, "/events",
                    "{\"device_id\":\"a\",\"kind\":\"t\"}\n{\"device_id\":\"b\",\"kind\":\"t\"}\n",
                    {{"Content-Type", "Application/X-NDJSON; charset=utf-8"}});
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  EXPECT_EQ(ParseIds(r.body()).size(), 2u);
}

TEST_F(RouterTest, AnyOtherContentTypeIsReadAsJson) {
  // curl -d sends application/x-www-form-urlencoded; it must still work.
  Response r = Send(http::verb::post, "/events", R"({"device_id":"a","kind":"t"})",
                    {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(r.result(), http::status::ok) << r.body();
}

TEST_F(RouterTest, NdjsonWithoutItsContentTypeGetsAHint) {
  Response r = Send(http::verb::post, "/events",
                    "{\"device_id\":\"a\",\"kind\":\"t\"}\n{\"device_id\":\"b\",\"kind\":\"t\"}\n");
  EXPECT_EQ(r.result(), http::status::bad_request);
  EXPECT_NE(r.body().find("send Content-Type: application/x-ndjson"), std::string::npos)
      << r.body();
  EXPECT_EQ(CountEvents(dir_.File("events.db")), 0);
}

TEST_F(RouterTest, GzipIsBoundedByTheBodyLimitOnceDecompressed) {
  std::string body = R"({"device_id":"a","kind":"t","payload":")" + std::string(5000, 'z') + "\"}";
  Response r = Send(http::verb::post, "/events", Gzip(body), {{"Content-Encoding", "GZIP"}});
  EXPECT_EQ(r.result(), http::status::payload_too_large) << r.body();
  EXPECT_EQ(CountEvents(dir_.File("events.db")), 0);
}

TEST_F(RouterTest, IdentityEncodingIsAccepted) {
  Response r = Send(http::verb::post, "/events", R"({"device_id":"a","kind":"t"})",
                    {{"Content-Encoding", "identity"}});
  EXPECT_EQ(r.result(), http::status::ok) << r.body();
}

TEST_F(RouterTest, BufferFullAnswersCarryRetryAfterAndTheBacklog) {
  std::string batch = "[";
  for (int i = 0; i < 100; ++i)
    batch += std::string(i ? "," : "") + R"({"device_id":"a","kind":"t"})";
  ASSERT_EQ(Send(http::verb::post, "/events", batch + "]").result(), http::status::ok);
  Response r = Send(http::verb::post, "/events", R"({"device_id":"a","kind":"t"})");
  EXPECT_EQ(r.result(), http::status::service_unavailable);
  EXPECT_EQ(r[http::field::retry_after], "1");
  EXPECT_NE(r.body().find("\"backlog\":100"), std::string::npos) << r.body();
}

TEST_F(RouterTest, StatsCountAnswersByExactStatusCode) {
  Send(http::verb::post, "/events", "{");
  Send(http::verb::post, "/events", R"({"device_id":"a","kind":"t"})");
  Send(http::verb::get, "/nope");
  Send(http::verb::delete_, "/events");
  Response r = Send(http::verb::get, "/stats");
  EXPECT_NE(r.body().find("\"responses\":{\"200\":1,\"400\":1,\"404\":1,\"405\":1}"),
            std::string::npos)
      << r.body();
  EXPECT_NE(r.body().find("\"events_accepted\":1"), std::string::npos) << r.body();
}

// Issue 16: only the POSTs answered 200 were timed.
TEST_F(RouterTest, EveryIngestPostIsTimedWhateverItsAnswer) {
  Send(http::verb::post, "/events", "{");
  Send(http::verb::post, "/events", R"({"device_id":"a","kind":"t"})");
  Send(http::verb::post, "/events", "{}", {{"Content-Encoding", "br"}});
  Send(http::verb::post, "/v1/logs", "\xff", {{"Content-Type", "application/x-protobuf"}});
  Send(http::verb::get, "/events");  // 405: not a POST, not timed
  const HttpCounters& c = router_->counters();
  EXPECT_EQ(c.latency(IngestRoute::kEvents).Take().count, 3u);
  EXPECT_EQ(c.latency(IngestRoute::kOtlpLogs).Take().count, 1u);
  EXPECT_EQ(c.latency(IngestRoute::kOtlpMetrics).Take().count, 0u);
  EXPECT_EQ(c.Answered(400), 2);
  EXPECT_EQ(c.Answered(415), 1);
}

TEST_F(RouterTest, KeepAliveFollowsTheRequest) {
  Request req{http::verb::get, "/healthz", 11};
  req.keep_alive(false);
  std::promise<Response> p;
  router_->Handle(
      std::move(req), [](std::function<void()> fn) { fn(); },
      [&p](Response&& r) { p.set_value(std::move(r)); });
  EXPECT_FALSE(p.get_future().get().keep_alive());
}

}  // namespace
}  // namespace cistern::testing
