// The HTTP load of cistern-loadgen: against the real collector it exits 0 and its accepted
// count equals the rows on disk; against a server that drops (500) it exits 1 and names the
// count; a 503 is backpressure, not a drop; a bad target is a usage error (2). Plus the pure
// parts (target parsing, bodies, acknowledgements, Retry-After, the latency histogram).
#include "tools/loadgen/http_load.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/cistern_process.h"
#include "support/sqlite_peek.h"
#include "support/temp_dir.h"
#include "tools/loadgen/http_events.h"
#include "tools/loadgen/http_histogram.h"

namespace cistern::loadgen {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using testing::CisternProcess;
using testing::TempDir;

// A tiny keep-alive HTTP server on 127.0.0.1:0, run by its own thread. `handler` runs on
// that thread only, so the state it touches needs no lock; read it after Stop().
class FakeServer {
 public:
  using Handler = std::function<Response(const Request&)>;
  explicit FakeServer(Handler handler) : handler_(std::move(handler)) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    DoAccept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~FakeServer() { Stop(); }
  void Stop() {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }
  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(tcp::socket s, Handler* h) : stream(std::move(s)), handler(h) {}
    void Read() {
      req = {};
      http::async_read(
          stream, buffer, req, [self = shared_from_this()](beast::error_code ec, size_t) {
            if (ec) return;
            self->res = (*self->handler)(self->req);
            self->res.version(11);
            self->res.keep_alive(self->req.keep_alive());
            self->res.prepare_payload();
            http::async_write(self->stream, self->res, [self](beast::error_code ec, size_t) {
              if (!ec && self->res.keep_alive()) self->Read();
            });
          });
    }
    beast::tcp_stream stream;
    Handler* handler;
    beast::flat_buffer buffer;
    Request req;
    Response res;
  };

  void DoAccept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (ec) return;
      std::make_shared<Session>(std::move(s), &handler_)->Read();
      DoAccept();
    });
  }

  Handler handler_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  uint16_t port_ = 0;
  std::thread thread_;
};

Response Json(http::status status, std::string body) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

// A collector stand-in: counts the events of each POST, hands out ids, answers GET /stats.
// `decide(n)` picks the status of the n-th POST (1-based): 200 acknowledges, others store
// nothing.
struct FakeCollector {
  std::function<http::status(int64_t)> decide;
  int64_t posts = 0;
  int64_t events_written = 0;
  std::map<int, int64_t> statuses;
  std::set<std::string> refused_bodies;  // bodies answered 503
  int64_t refused_bodies_resent = 0;     // of those, later acknowledged
  simdjson::dom::parser parser;

  Response Handle(const Request& req) {
    if (req.target() == "/stats") {
      return Json(http::status::ok,
                  R"({"store":{"events_written":)" + std::to_string(events_written) + "}}");
    }
    http::status status = decide(++posts);
    ++statuses[static_cast<int>(status)];
    if (status == http::status::service_unavailable) {
      refused_bodies.insert(req.body());
      Response res = Json(status, R"({"error":"buffer full","backlog":9})");
      res.set(http::field::retry_after, "1");
      return res;
    }
    if (status != http::status::ok) return Json(status, R"({"error":"boom"})");
    if (refused_bodies.count(req.body())) ++refused_bodies_resent;
    simdjson::dom::element doc;
    EXPECT_FALSE(parser.parse(req.body()).get(doc)) << req.body();
    int64_t n = doc.is_array() ? static_cast<int64_t>(doc.get_array().size()) : 1;
    std::string ids;
    for (int64_t i = 0; i < n; ++i) ids += (i ? "," : "") + std::to_string(++events_written);
    return Json(status, R"({"accepted":)" + std::to_string(n) + R"(,"ids":[)" + ids + "]}");
  }
};

int64_t ReadJsonInt(const std::string& path, const char* pointer) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  simdjson::dom::parser parser;
  simdjson::padded_string padded(ss.str());
  int64_t v = -1;
  EXPECT_FALSE(parser.parse(padded).at_pointer(pointer).get(v)) << pointer << " in " << ss.str();
  return v;
}

TEST(HttpLoad, RealCollectorAcceptedEqualsRowsOnDisk) {
  TempDir dir;
  const std::string db = dir.File("events.db");
  CisternProcess server(dir.path(), db, {"--max-backlog", "0"});
  ASSERT_TRUE(server.started()) << server.Log();
  int64_t total = 0;
  for (int batch : {1, 10}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    HttpLoadOptions o;
    o.target = "http://127.0.0.1:" + std::to_string(server.port());
    o.workers = 16;
    o.duration = std::chrono::milliseconds(1500);
    o.batch = batch;
    o.verify_db = db;
    o.json_file = dir.File("load-" + std::to_string(batch) + ".json");
    std::ostringstream out, err;
    EXPECT_EQ(RunHttpLoad(o, out, err), 0) << out.str() << err.str();
    EXPECT_NE(out.str().find("OK: no writes dropped"), std::string::npos) << out.str();
    int64_t accepted = ReadJsonInt(o.json_file, "/events_accepted");
    EXPECT_GT(accepted, 0);
    EXPECT_EQ(accepted % batch, 0);
    EXPECT_EQ(ReadJsonInt(o.json_file, "/failures"), 0);
    EXPECT_EQ(ReadJsonInt(o.json_file, "/db_check/missing"), 0);
    EXPECT_NE(out.str().find("events accepted   " + std::to_string(accepted) + "\n"),
              std::string::npos)
        << out.str();
    total += accepted;
    EXPECT_EQ(testing::CountEvents(db), total);
  }
  // The events are the realistic ones: cycled devices, errors, a quote in the note.
  EXPECT_EQ(testing::QueryInt(db, "SELECT count(DISTINCT device_id) FROM events"), 50);
  EXPECT_GT(testing::QueryInt(db, "SELECT count(*) FROM events WHERE kind = 'error'"), 0);
  EXPECT_EQ(
      testing::QueryInt(db,
                        "SELECT count(*) FROM events WHERE json_extract(payload_json, '$.note') "
                        "NOT LIKE '%\"%'"),
      0);
  EXPECT_EQ(server.Stop(), 0) << server.Log();
}

// Issue 16: loadgen could not load a collector guarded by tokens or serving HTTPS.
TEST(HttpLoad, HttpsCollectorWithTokens) {
  TempDir dir;
  const std::string cert = dir.File("cert.pem"), key = dir.File("key.pem");
  testing::RunResult made = testing::RunProgram(
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
       "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert},
      std::chrono::seconds(60));
  ASSERT_EQ(made.exit_code, 0) << made.output;
  std::ofstream(dir.File("ingest")) << "ingest-secret\n";
  std::ofstream(dir.File("admin")) << "admin-secret\n";
  const std::string db = dir.File("events.db");
  CisternProcess server(dir.path(), db,
                        {"--tls-cert", cert, "--tls-key", key, "--auth-token-file",
                         dir.File("ingest"), "--admin-token-file", dir.File("admin")});
  ASSERT_TRUE(server.started()) << server.Log();
  auto options = [&] {
    HttpLoadOptions o;
    o.target = "https://127.0.0.1:" + std::to_string(server.port());
    o.workers = 4;
    o.duration = std::chrono::milliseconds(800);
    o.cacert = cert;
    o.token = "ingest-secret";
    o.admin_token = "admin-secret";
    o.verify_db = db;
    return o;
  };
  {
    std::ostringstream out, err;
    EXPECT_EQ(RunHttpLoad(options(), out, err), 0) << out.str() << err.str();
    EXPECT_NE(out.str().find("OK: no writes dropped"), std::string::npos) << out.str();
    EXPECT_NE(out.str().find("failures          0\n"), std::string::npos) << out.str();
    EXPECT_GT(testing::CountEvents(db), 0);
  }
  {  // the wrong ingest token: every POST is a 401, a failure
    HttpLoadOptions o = options();
    o.token = "guess";
    std::ostringstream out, err;
    EXPECT_EQ(RunHttpLoad(o, out, err), 1) << out.str() << err.str();
    EXPECT_NE(out.str().find("401: "), std::string::npos) << out.str();
  }
  {  // no admin token: the /stats check at the start refuses, naming the flag
    HttpLoadOptions o = options();
    o.token.clear();
    o.admin_token.clear();
    std::ostringstream out, err;
    EXPECT_EQ(RunHttpLoad(o, out, err), 2) << out.str() << err.str();
    EXPECT_NE(err.str().find("answered 401 (the collector wants a token: --token)"),
              std::string::npos)
        << err.str();
  }
  {  // the certificate is checked: without --cacert the system CAs do not know it
    HttpLoadOptions o = options();
    o.cacert.clear();
    std::ostringstream out, err;
    EXPECT_EQ(RunHttpLoad(o, out, err), 2) << err.str();
    EXPECT_NE(err.str().find("TLS handshake"), std::string::npos) << err.str();
    o.insecure = true;  // ... unless told not to
    std::ostringstream out2, err2;
    EXPECT_EQ(RunHttpLoad(o, out2, err2), 0) << out2.str() << err2.str();
  }
  {  // TLS options on a plain target, or both at once, are usage errors
    HttpLoadOptions o = options();
    o.target = "http://127.0.0.1:" + std::to_string(server.port());
    std::ostringstream out, err;
    EXPECT_EQ(RunHttpLoad(o, out, err), 2);
    EXPECT_NE(err.str().find("--cacert and --insecure are for an https:// --target"),
              std::string::npos)
        << err.str();
  }
  EXPECT_EQ(server.Stop(), 0) << server.Log();
}

TEST(HttpLoad, DroppingServerExitsOneAndNamesTheCount) {
  FakeCollector fake;
  fake.decide = [](int64_t n) {
    return n % 7 == 0 ? http::status::internal_server_error : http::status::ok;
  };
  FakeServer server([&](const Request& r) { return fake.Handle(r); });
  HttpLoadOptions o;
  o.target = server.url();
  o.workers = 8;
  o.duration = std::chrono::milliseconds(1000);
  std::ostringstream out, err;
  int code = RunHttpLoad(o, out, err);
  server.Stop();
  EXPECT_EQ(code, 1) << out.str() << err.str();
  const int64_t dropped = fake.statuses[500];
  ASSERT_GT(dropped, 0);
  EXPECT_NE(out.str().find("FAIL: " + std::to_string(dropped) +
                           " writes dropped (500: " + std::to_string(dropped) + ")"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("events accepted   " + std::to_string(fake.events_written) + "\n"),
            std::string::npos)
      << out.str();
}

TEST(HttpLoad, ServiceUnavailableIsBackpressureNotADrop) {
  FakeCollector fake;
  fake.decide = [](int64_t n) {
    return n <= 3 ? http::status::service_unavailable : http::status::ok;
  };
  FakeServer server([&](const Request& r) { return fake.Handle(r); });
  HttpLoadOptions o;
  o.target = server.url();
  o.workers = 4;
  o.batch = 5;
  o.duration = std::chrono::milliseconds(1600);
  std::ostringstream out, err;
  int code = RunHttpLoad(o, out, err);
  server.Stop();
  EXPECT_EQ(code, 0) << out.str() << err.str();
  EXPECT_NE(out.str().find("503 backpressure  3 "), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("OK: no writes dropped"), std::string::npos) << out.str();
  // Each refused request came back after Retry-After with the very same events.
  EXPECT_EQ(fake.refused_bodies.size(), 3u);
  EXPECT_EQ(fake.refused_bodies_resent, 3);
}

TEST(HttpLoad, RateCapsRequestsPerSecond) {
  FakeCollector fake;
  fake.decide = [](int64_t) { return http::status::ok; };
  FakeServer server([&](const Request& r) { return fake.Handle(r); });
  HttpLoadOptions o;
  o.target = server.url();
  o.workers = 8;
  o.rate = 40;
  o.duration = std::chrono::milliseconds(1000);
  std::ostringstream out, err;
  EXPECT_EQ(RunHttpLoad(o, out, err), 0) << out.str() << err.str();
  server.Stop();
  EXPECT_LE(fake.posts, 41);
  EXPECT_GE(fake.posts, 30);
}

TEST(HttpLoad, BadOrUnreachableTargetIsAUsageError) {
  for (const char* target :
       {"127.0.0.1:8080", "ftp://127.0.0.1:8080", "http://", "http://127.0.0.1:99999",
        "http://127.0.0.1:80/events", "http://127.0.0.1:x"}) {
    HttpLoadOptions o;
    o.target = target;
    std::ostringstream out, err;
    EXPECT_EQ(RunHttpLoad(o, out, err), 2) << target;
    EXPECT_NE(err.str().find("bad target"), std::string::npos) << err.str();
  }
  uint16_t closed_port;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = a.local_endpoint().port();
  }
  HttpLoadOptions o;
  o.target = "http://127.0.0.1:" + std::to_string(closed_port);
  std::ostringstream out, err;
  EXPECT_EQ(RunHttpLoad(o, out, err), 2);
  EXPECT_NE(err.str().find("not a reachable cistern collector"), std::string::npos) << err.str();
}

TEST(HttpEvents, ParsesTargets) {
  HttpTarget t;
  std::string error;
  ASSERT_TRUE(ParseHttpTarget("http://127.0.0.1:8080", &t, &error)) << error;
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.port, 8080);
  ASSERT_TRUE(ParseHttpTarget("http://localhost/", &t, &error)) << error;
  EXPECT_EQ(t.host, "localhost");
  EXPECT_EQ(t.port, 80);
  ASSERT_TRUE(ParseHttpTarget("http://[::1]:9000", &t, &error)) << error;
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.port, 9000);
  EXPECT_FALSE(t.tls);
  ASSERT_TRUE(ParseHttpTarget("https://collector.example:8443", &t, &error)) << error;
  EXPECT_EQ(t.host, "collector.example");
  EXPECT_EQ(t.port, 8443);
  EXPECT_TRUE(t.tls);
  ASSERT_TRUE(ParseHttpTarget("https://[::1]", &t, &error)) << error;
  EXPECT_EQ(t.port, 443);
  EXPECT_TRUE(t.tls);
  EXPECT_FALSE(ParseHttpTarget("http://::1:9000", &t, &error));
  EXPECT_FALSE(ParseHttpTarget("http://host:0", &t, &error));
}

TEST(HttpEvents, BodiesAreRealisticValidJson) {
  EventFactory factory(3);
  simdjson::dom::parser parser;
  std::string body;
  factory.Build(1, &body);
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(body).get(doc)) << body;
  ASSERT_TRUE(doc.is_object()) << body;
  EXPECT_EQ(std::string_view(doc["device_id"]), "sensor-0000");
  EXPECT_EQ(std::string_view(doc["payload"]["note"]).find('"') != std::string_view::npos, true);

  factory.Build(33, &body);
  simdjson::dom::array events;
  ASSERT_FALSE(parser.parse(body).get(events)) << body;
  ASSERT_EQ(events.size(), 33u);
  int n = 1, errors = 0;
  for (simdjson::dom::element e : events) {
    ++n;  // the factory's 1-based event number
    std::string_view kind = e["kind"];
    EXPECT_EQ(kind == "error", n % 17 == 0) << n;
    errors += kind == "error";
    EXPECT_EQ(std::string_view(e["device_id"]), "sensor-000" + std::to_string((n - 1) % 3));
    EXPECT_EQ(int64_t(e["payload"]["seq"]), (n - 1) / 3);
  }
  EXPECT_EQ(errors, 2);
}

TEST(HttpEvents, ParsesAcknowledgements) {
  simdjson::dom::parser parser;
  std::vector<int64_t> ids;
  std::string why;
  EXPECT_TRUE(ParseAck(parser, R"({"accepted":2,"ids":[7,8]})", 2, &ids, &why)) << why;
  EXPECT_EQ(ids, (std::vector<int64_t>{7, 8}));
  EXPECT_FALSE(ParseAck(parser, R"({"accepted":1,"ids":[9]})", 2, &ids, &why));
  EXPECT_FALSE(ParseAck(parser, R"({"accepted":2,"ids":[9,"x"]})", 2, &ids, &why));
  EXPECT_FALSE(ParseAck(parser, "ok", 1, &ids, &why));
  EXPECT_EQ(ids.size(), 2u);
}

TEST(HttpEvents, RetryAfterIsBounded) {
  using std::chrono::milliseconds;
  EXPECT_EQ(RetryAfterDelay("2"), milliseconds(2000));
  EXPECT_EQ(RetryAfterDelay(""), milliseconds(1000));
  EXPECT_EQ(RetryAfterDelay("Wed, 21 Oct 2015 07:28:00 GMT"), milliseconds(1000));
  EXPECT_EQ(RetryAfterDelay("3600"), milliseconds(5000));
  EXPECT_EQ(RetryAfterDelay("0"), milliseconds(10));
}

TEST(FineHistogram, QuantilesWithinOnePercent) {
  FineHistogram h;
  EXPECT_EQ(h.QuantileUs(0.5), 0u);
  for (uint64_t v = 1; v <= 100'000; ++v) h.Record(v);
  for (double q : {0.5, 0.9, 0.99}) {
    double want = q * 100'000;
    EXPECT_NEAR(static_cast<double>(h.QuantileUs(q)), want, want * 0.01) << q;
  }
  EXPECT_EQ(h.QuantileUs(1.0), 100'000u);
  EXPECT_EQ(h.max_us(), 100'000u);
  FineHistogram small;
  for (uint64_t v : {3, 5, 250}) small.Record(v);
  EXPECT_EQ(small.QuantileUs(0.5), 5u);  // exact below 256 µs
  h.Merge(small);
  EXPECT_EQ(h.count(), 100'003u);
}

}  // namespace
}  // namespace cistern::loadgen
