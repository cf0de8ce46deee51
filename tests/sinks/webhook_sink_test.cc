// WebhookSink against a real HttpReceiver over real loopback sockets.
#include "sinks/webhook/webhook_sink.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <set>
#include <thread>

#include "support/http_receiver.h"
#include "support/upload_batches.h"

namespace cistern {
namespace {

using testing::HttpReceiver;
using testing::Received;
using Clock = std::chrono::steady_clock;
using Outcome = SendResult::Outcome;

UploadBatch MakeBatch(int64_t first_id, int n, const std::string& node_id = "node-7f3a") {
  return testing::MakeUploadBatch(first_id, n, node_id);
}

std::unique_ptr<Sink> MakeSink(const std::string& url, bool gzip = false,
                               std::chrono::milliseconds timeout = std::chrono::seconds(10),
                               const std::string& auth = "") {
  WebhookOptions o;
  o.url = url;
  o.gzip = gzip;
  o.timeout = timeout;
  o.authorization = auth;
  auto sink = MakeWebhookSink(o);
  EXPECT_TRUE(sink.ok()) << sink.status().message();
  return sink.ok() ? std::move(*sink) : nullptr;
}

// Checks that `body` is the JSON array of `batch`'s events, in order, with exactly the fields
// id, node_id, device_id, kind, payload, ts.
void ExpectBatchJson(const std::string& body, const UploadBatch& batch) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS) << body.substr(0, 200);
  simdjson::dom::array arr;
  ASSERT_EQ(doc.get_array().get(arr), simdjson::SUCCESS);
  ASSERT_EQ(arr.size(), batch.size());
  size_t i = 0;
  for (simdjson::dom::element el : arr) {
    simdjson::dom::object obj;
    ASSERT_EQ(el.get_object().get(obj), simdjson::SUCCESS);
    std::set<std::string> keys;
    for (auto field : obj) keys.insert(std::string(field.key));
    EXPECT_EQ(keys, (std::set<std::string>{"id", "node_id", "device_id", "kind", "payload", "ts"}));
    EventView e = batch.events[i];
    EXPECT_EQ(int64_t(obj["id"]), batch.ids[i]);
    EXPECT_EQ(std::string_view(obj["node_id"]), batch.node_id);
    EXPECT_EQ(std::string_view(obj["device_id"]), e.device_id);
    EXPECT_EQ(std::string_view(obj["kind"]), e.kind);
    EXPECT_EQ(int64_t(obj["ts"]), e.ts);
    if (e.has_payload) {
      EXPECT_EQ(simdjson::minify(obj["payload"].value()), e.payload_json);
    } else {
      EXPECT_TRUE(obj["payload"].is_null());
    }
    ++i;
  }
}

class WebhookSinkTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(rx_.Start().ok()); }

  // The one request the receiver got.
  Received Only() {
    auto reqs = rx_.Requests();
    EXPECT_EQ(reqs.size(), 1u);
    return reqs.empty() ? Received{} : reqs.front();
  }

  HttpReceiver rx_;
};

TEST_F(WebhookSinkTest, PostsBatchAsJsonArrayInIdOrder) {
  auto sink = MakeSink(rx_.Url("/ingest?src=edge"));
  ASSERT_TRUE(sink);
  EXPECT_EQ(sink->name(), "webhook");
  UploadBatch batch = MakeBatch(41, 6);
  SendResult r = sink->Send(batch);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.error.empty());

  Received got = Only();
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/ingest?src=edge");
  EXPECT_EQ(got.Header("content-type"), "application/json");
  EXPECT_EQ(got.Header("user-agent"), "cistern");
  EXPECT_EQ(got.Header("content-encoding"), "");
  EXPECT_EQ(got.Header("authorization"), "");
  EXPECT_EQ(got.Header("expect"), "");
  EXPECT_EQ(got.body, BatchJson(batch));
  ExpectBatchJson(got.body, batch);
}

TEST_F(WebhookSinkTest, GzipBodyDecodesToTheSameJson) {
  auto sink = MakeSink(rx_.Url("/ingest"), /*gzip=*/true);
  ASSERT_TRUE(sink);
  UploadBatch batch = MakeBatch(1, 500);
  SendResult r = sink->Send(batch);
  ASSERT_TRUE(r.ok()) << r.error;

  Received got = Only();
  EXPECT_EQ(got.Header("content-encoding"), "gzip");
  EXPECT_FALSE(got.decode_error);
  EXPECT_EQ(got.body, BatchJson(batch));
  EXPECT_LT(got.wire_bytes * 4, got.body.size()) << "JSON should compress well";
  ExpectBatchJson(got.body, batch);
}

TEST_F(WebhookSinkTest, SendsAuthorizationHeaderWhenSet) {
  auto sink = MakeSink(rx_.Url("/ingest"), false, std::chrono::seconds(10), "Bearer s3cret");
  ASSERT_TRUE(sink);
  ASSERT_TRUE(sink->Send(MakeBatch(1, 2)).ok());
  EXPECT_EQ(Only().Header("authorization"), "Bearer s3cret");
}

TEST_F(WebhookSinkTest, IdempotencyKeyIsStableForAReshippedBatchAndDistinctOtherwise) {
  auto sink = MakeSink(rx_.Url("/ingest"));
  ASSERT_TRUE(sink);
  UploadBatch a = MakeBatch(100, 10);
  ASSERT_TRUE(sink->Send(a).ok());
  ASSERT_TRUE(sink->Send(MakeBatch(100, 10)).ok());  // the same batch, re-read and re-shipped
  ASSERT_TRUE(sink->Send(MakeBatch(110, 10)).ok());  // the next batch
  ASSERT_TRUE(sink->Send(MakeBatch(100, 10, "other-node")).ok());

  auto reqs = rx_.Requests();
  ASSERT_EQ(reqs.size(), 4u);
  std::string key = reqs[0].Header("idempotency-key");
  EXPECT_EQ(key, BatchKey(a));
  EXPECT_FALSE(key.empty());
  EXPECT_EQ(reqs[1].Header("idempotency-key"), key);
  EXPECT_NE(reqs[2].Header("idempotency-key"), key);
  EXPECT_NE(reqs[3].Header("idempotency-key"), key);
  EXPECT_NE(reqs[3].Header("idempotency-key"), reqs[2].Header("idempotency-key"));
}

TEST_F(WebhookSinkTest, ReusesOneKeptAliveConnection) {
  auto sink = MakeSink(rx_.Url("/ingest"), /*gzip=*/true);
  ASSERT_TRUE(sink);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sink->Send(MakeBatch(1 + 10 * i, 10)).ok());
  EXPECT_EQ(rx_.Count(), 5u);
  EXPECT_EQ(rx_.Connections(), 1u);
}

TEST_F(WebhookSinkTest, LargeBatchIsDeliveredWhole) {
  auto sink = MakeSink(rx_.Url("/ingest"));
  ASSERT_TRUE(sink);
  UploadBatch batch = MakeBatch(1, 20000);  // > 1 MiB: curl would add Expect: 100-continue
  ASSERT_GT(BatchJson(batch).size(), size_t{1} << 20);
  auto start = Clock::now();
  ASSERT_TRUE(sink->Send(batch).ok());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  Received got = Only();
  EXPECT_EQ(got.Header("expect"), "");
  ExpectBatchJson(got.body, batch);
}

struct StatusCase {
  int status;
  Outcome outcome;
};

class WebhookStatusTest : public WebhookSinkTest,
                          public ::testing::WithParamInterface<StatusCase> {};

TEST_P(WebhookStatusTest, MapsHttpStatusToOutcome) {
  const StatusCase c = GetParam();
  rx_.SetStatus(c.status);
  auto sink = MakeSink(rx_.Url("/ingest"));
  ASSERT_TRUE(sink);
  SendResult r = sink->Send(MakeBatch(1, 3));
  EXPECT_EQ(r.outcome, c.outcome) << c.status << ": " << r.error;
  if (c.outcome == Outcome::kOk) {
    EXPECT_TRUE(r.error.empty()) << r.error;
  } else {
    EXPECT_NE(r.error.find("webhook " + rx_.Url("/ingest") + ": " + std::to_string(c.status)),
              std::string::npos)
        << r.error;
  }
  // Whatever the answer, the connection stays usable for the next batch.
  rx_.SetStatus(200);
  EXPECT_TRUE(sink->Send(MakeBatch(4, 3)).ok());
}

INSTANTIATE_TEST_SUITE_P(
    Statuses, WebhookStatusTest,
    ::testing::Values(StatusCase{200, Outcome::kOk}, StatusCase{202, Outcome::kOk},
                      StatusCase{204, Outcome::kOk}, StatusCase{500, Outcome::kRetry},
                      StatusCase{503, Outcome::kRetry}, StatusCase{429, Outcome::kRetry},
                      StatusCase{408, Outcome::kRetry}, StatusCase{502, Outcome::kRetry},
                      StatusCase{400, Outcome::kPermanent}, StatusCase{404, Outcome::kPermanent},
                      StatusCase{401, Outcome::kPermanent}, StatusCase{413, Outcome::kPermanent}),
    [](const auto& info) { return std::to_string(info.param.status); });

TEST_F(WebhookSinkTest, ErrorNamesStatusLineAndABoundedBodySnippet) {
  rx_.SetStatus(503);
  rx_.SetResponseBody("{\"error\":\"overloaded\"}\n" + std::string(5000, 'x'));
  auto sink = MakeSink(rx_.Url("/ingest"));
  ASSERT_TRUE(sink);
  SendResult r = sink->Send(MakeBatch(1, 3));
  EXPECT_EQ(r.outcome, Outcome::kRetry);
  std::string want = "webhook " + rx_.Url("/ingest") +
                     ": 503 Service Unavailable: " + "{\"error\":\"overloaded\"} xxx";
  EXPECT_EQ(r.error.rfind(want, 0), 0u) << r.error;
  EXPECT_LT(r.error.size(), want.size() + 250) << "body snippet must be bounded";
}

TEST_F(WebhookSinkTest, ConnectionRefusedIsRetryAndFast) {
  std::string url = rx_.Url("/ingest");
  rx_.Stop();
  auto sink = MakeSink(url);
  ASSERT_TRUE(sink);
  auto start = Clock::now();
  SendResult r = sink->Send(MakeBatch(1, 3));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(r.outcome, Outcome::kRetry);
  EXPECT_NE(r.error.find("webhook " + url + ": Couldn't connect to server"), std::string::npos)
      << r.error;
}

TEST_F(WebhookSinkTest, RidesOutAReceiverOutageOnTheSamePort) {
  auto sink = MakeSink(rx_.Url("/ingest"));
  ASSERT_TRUE(sink);
  ASSERT_TRUE(sink->Send(MakeBatch(1, 3)).ok());  // a kept-alive connection now exists
  uint16_t port = rx_.port();
  rx_.Stop();
  EXPECT_EQ(sink->Send(MakeBatch(4, 3)).outcome, Outcome::kRetry);
  EXPECT_EQ(sink->Send(MakeBatch(4, 3)).outcome, Outcome::kRetry);
  ASSERT_TRUE(rx_.Start(port).ok());
  SendResult r = sink->Send(MakeBatch(4, 3));
  EXPECT_TRUE(r.ok()) << r.error;
  auto reqs = rx_.Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].Header("idempotency-key"), BatchKey(MakeBatch(4, 3)));
  EXPECT_EQ(rx_.Connections(), 2u);
}

TEST_F(WebhookSinkTest, UrlCredentialsAndQueryStayOutOfErrors) {
  rx_.SetStatus(500);
  auto sink = MakeSink("http://user:hunter2@127.0.0.1:" + std::to_string(rx_.port()) +
                       "/ingest?token=abc123");
  ASSERT_TRUE(sink);
  SendResult r = sink->Send(MakeBatch(1, 1));
  EXPECT_EQ(r.outcome, Outcome::kRetry);
  EXPECT_EQ(r.error.find("hunter2"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("abc123"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find(rx_.Url("/ingest") + ": 500"), std::string::npos) << r.error;
}

TEST(WebhookSink, ReceiverThatNeverAnswersTimesOutAsRetry) {
  // The kernel completes the handshake into the backlog; nobody ever accepts or reads.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor silent(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::string url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/x";
  auto sink = MakeSink(url, false, std::chrono::milliseconds(300));
  ASSERT_TRUE(sink);
  auto start = Clock::now();
  SendResult r = sink->Send(MakeBatch(1, 3));
  auto elapsed = Clock::now() - start;
  EXPECT_EQ(r.outcome, Outcome::kRetry);
  EXPECT_NE(r.error.find("Timeout"), std::string::npos) << r.error;
  EXPECT_GE(elapsed, std::chrono::milliseconds(200));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(WebhookSink, RejectsInvalidOptions) {
  for (std::string url : {"", "not a url", "ftp://example.com/x", "127.0.0.1:8080/ingest",
                          "http://", "file:///etc/passwd", "http://exa mple.com/"}) {
    WebhookOptions o;
    o.url = url;
    auto sink = MakeWebhookSink(o);
    ASSERT_FALSE(sink.ok()) << url;
    EXPECT_EQ(sink.status().code(), Status::Code::kInvalidArgument) << url;
    EXPECT_NE(sink.status().message().find("webhook"), std::string::npos);
  }
  WebhookOptions o;
  o.url = "https://example.com/ingest";
  EXPECT_TRUE(MakeWebhookSink(o).ok());
  o.timeout = std::chrono::milliseconds(0);
  EXPECT_FALSE(MakeWebhookSink(o).ok());
}

// The receiver serves many clients at once (the uploader tests rely on it).
TEST(HttpReceiver, ServesConcurrentClientsAndRecordsEveryRequest) {
  HttpReceiver rx;
  ASSERT_TRUE(rx.Start().ok());
  std::atomic<int> seen{0};
  rx.SetResponder([&](const Received& r) { return ++seen % 3 == 0 ? 503 : 200; });
  constexpr int kClients = 4, kSends = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto sink = MakeSink(rx.Url("/c" + std::to_string(c)), c % 2 == 0);
      for (int i = 0; sink && i < kSends; ++i) ok += sink->Send(MakeBatch(1 + i, 2)).ok();
    });
  }
  for (auto& t : clients) t.join();
  ASSERT_TRUE(rx.WaitForCount(kClients * kSends, std::chrono::seconds(5)));
  auto reqs = rx.Requests();
  EXPECT_EQ(reqs.size(), size_t{kClients * kSends});
  int accepted = 0;
  for (const auto& r : reqs) accepted += r.status == 200;
  EXPECT_EQ(accepted, ok.load());
  EXPECT_EQ(rx.Connections(), uint64_t{kClients});
  rx.Clear();
  EXPECT_EQ(rx.Count(), 0u);
  EXPECT_FALSE(rx.WaitForCount(1, std::chrono::milliseconds(50)));
}

}  // namespace
}  // namespace cistern
