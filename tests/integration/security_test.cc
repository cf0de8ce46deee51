// Issue 15's HTTP findings, each over a real socket against the real binary: the token is
// judged on the header (before a byte of body), request framing a proxy could read otherwise
// is refused (RFC 9112), trailers never count as headers, answers are valid UTF-8 JSON with
// nosniff, Host can be pinned (--allowed-hosts), and an empty security setting is an error.
// docs/security.md is the threat model these tests hold the code to.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "common/utf8.h"
#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

constexpr const char* kEvent = R"({"device_id":"a","kind":"t"})";

// A connection the test holds open: connect, send, and read what comes within a deadline.
class Conn {
 public:
  explicit Conn(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Conn() { close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& s) { (void)!write(fd_, s.data(), s.size()); }
  // Reads until the peer closes or `timeout` passes.
  std::string ReadAll(std::chrono::milliseconds timeout) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[4096];
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

class SecurityTest : public ServerTest {
 protected:
  std::string TokenFile(const std::string& content) {
    std::string path = dir_.File("tokens");
    std::ofstream(path) << content;
    return path;
  }
  std::string Head(const std::string& request_line, const std::string& fields) {
    return request_line + "\r\nHost: 127.0.0.1\r\n" + fields + "\r\n";
  }
  static std::string StatusLine(const std::string& reply) {
    return reply.substr(0, reply.find("\r\n"));
  }
};

TEST_F(SecurityTest, TheTokenIsCheckedBeforeTheBody) {
  Start({"--auth-token-file", TokenFile("tok\n")});
  // 1 MiB announced, not a byte of it sent: the 401 must come from the header alone.
  Conn c(server_->port());
  ASSERT_TRUE(c.connected());
  c.Send(Head("POST /events HTTP/1.1",
              "Content-Type: application/json\r\nContent-Length: 1048576\r\n"));
  std::string reply = c.ReadAll(std::chrono::seconds(5));
  EXPECT_EQ(StatusLine(reply), "HTTP/1.1 401 Unauthorized") << reply;
  EXPECT_NE(reply.find("Connection: close"), std::string::npos) << reply;
  EXPECT_EQ(Rows(), 0);
  // The OTLP routes are ingest routes: judged the same way, before their body.
  for (const char* path : {"/v1/logs", "/v1/metrics"}) {
    Conn o(server_->port());
    o.Send(Head(std::string("POST ") + path + " HTTP/1.1",
                "Content-Type: application/x-protobuf\r\nContent-Length: 1048576\r\n"));
    reply = o.ReadAll(std::chrono::seconds(5));
    EXPECT_EQ(StatusLine(reply), "HTTP/1.1 401 Unauthorized") << path << ": " << reply;
  }
}

TEST_F(SecurityTest, ClientsStuckWithoutATokenDoNotStarveOnesWithIt) {
  Start({"--auth-token-file", TokenFile("tok\n"), "--max-connections", "16"});
  // More trickling, token-less uploads than there are connection slots.
  std::vector<std::unique_ptr<Conn>> attackers;
  for (int i = 0; i < 40; ++i) {
    attackers.push_back(std::make_unique<Conn>(server_->port()));
    attackers.back()->Send(Head("POST /events HTTP/1.1", "Content-Length: 1048576\r\n") + "{");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int i = 0; i < 5; ++i) {
    auto r = client_->Post("/events", kEvent, {{"Authorization", "Bearer tok"}});
    EXPECT_EQ(r.status, 200) << r.body;
    client_->Close();
  }
  EXPECT_EQ(Rows(), 5);
}

TEST_F(SecurityTest, TransferEncodingNotEndingInChunkedIsRefused) {
  Start();
  const std::string smuggled =
      "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 28\r\n\r\n" + std::string(kEvent);
  for (const char* te : {"chunked, identity", "gzip", "identity"}) {
    std::string body = "1c\r\n" + std::string(kEvent) + "\r\n0\r\n\r\n";
    std::string reply =
        RawExchange(server_->port(),
                    Head("POST /events HTTP/1.1", std::string("Transfer-Encoding: ") + te +
                                                      "\r\nContent-Type: application/json\r\n") +
                        smuggled);
    EXPECT_EQ(StatusLine(reply), "HTTP/1.1 400 Bad Request") << te << ": " << reply;
    EXPECT_EQ(reply.find("\"accepted\""), std::string::npos) << te << ": " << reply;
  }
  // Content-Length beside Transfer-Encoding: chunked.
  std::string reply = RawExchange(
      server_->port(),
      Head("POST /events HTTP/1.1", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n") +
          "1c\r\n" + kEvent + "\r\n0\r\n\r\n");
  EXPECT_EQ(StatusLine(reply), "HTTP/1.1 400 Bad Request") << reply;
  EXPECT_EQ(Rows(), 0) << "a smuggled request was stored";
}

TEST_F(SecurityTest, Http11NeedsExactlyOneHost) {
  Start();
  std::string reply = RawExchange(server_->port(), "GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(StatusLine(reply), "HTTP/1.1 400 Bad Request") << reply;
  EXPECT_NE(reply.find("missing Host"), std::string::npos) << reply;
  reply = RawExchange(server_->port(), "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  EXPECT_EQ(StatusLine(reply), "HTTP/1.1 400 Bad Request") << reply;
  // HTTP/1.0 has no Host requirement.
  reply = RawExchange(server_->port(), "GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(StatusLine(reply), "HTTP/1.0 200 OK") << reply;
}

TEST_F(SecurityTest, TrailerFieldsNeverAuthenticateNorCountAsHeaders) {
  Start({"--auth-token-file", TokenFile("tok\n")});
  const std::string chunk = "1c\r\n" + std::string(kEvent) + "\r\n";
  // The token only in the trailer: refused.
  std::string reply =
      RawExchange(server_->port(), Head("POST /events HTTP/1.1", "Transfer-Encoding: chunked\r\n") +
                                       chunk + "0\r\nAuthorization: Bearer tok\r\n\r\n");
  EXPECT_EQ(StatusLine(reply), "HTTP/1.1 401 Unauthorized") << reply;
  EXPECT_EQ(Rows(), 0);
  // The token in the header, a Content-Type in the trailer: stored as JSON (the trailer's
  // NDJSON type is ignored; were it applied, the array would be rejected as NDJSON).
  const std::string array = R"([{"device_id":"a","kind":"t"},{"device_id":"b","kind":"t"}])";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", array.size());
  reply = RawExchange(server_->port(),
                      Head("POST /events HTTP/1.1",
                           "Authorization: Bearer tok\r\nTransfer-Encoding: chunked\r\n"
                           "Content-Type: application/json\r\nConnection: close\r\n") +
                          size + "\r\n" + array +
                          "\r\n0\r\nContent-Type: application/x-ndjson\r\n\r\n");
  EXPECT_EQ(StatusLine(reply), "HTTP/1.1 200 OK") << reply;
  EXPECT_EQ(Rows(), 2);
}

TEST_F(SecurityTest, TheBearerSchemeIsCaseInsensitive) {
  Start({"--auth-token-file", TokenFile("tok\n")});
  for (const char* scheme : {"Bearer", "bearer", "BEARER", "bEaReR"}) {
    auto r = client_->Post("/events", kEvent, {{"Authorization", std::string(scheme) + " tok"}});
    EXPECT_EQ(r.status, 200) << scheme << ": " << r.body;
  }
  EXPECT_EQ(client_->Post("/events", kEvent, {{"Authorization", "Bearer TOK"}}).status, 401)
      << "the token itself is case-sensitive";
}

TEST_F(SecurityTest, FailedAuthenticationIsLoggedRateLimited) {
  Start({"--auth-token-file", TokenFile("tok\n")});
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(client_->Post("/events", kEvent, {{"Authorization", "Bearer guess"}}).status, 401);
    client_->Close();
  }
  std::string log = server_->Log();
  size_t lines = 0;
  for (size_t at = log.find("refused "); at != std::string::npos;
       at = log.find("refused ", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 1u) << "one line per 10 s, not one per failure:\n" << log;
  EXPECT_NE(log.find("wrong bearer token"), std::string::npos) << log;
  EXPECT_NE(log.find("auth: ingest on (1 token(s)); admin OFF"), std::string::npos) << log;
}

TEST_F(SecurityTest, AnswersAreValidUtf8JsonWithNosniff) {
  Start();
  std::string reply = RawExchange(
      server_->port(), "GET /\xff\xfe\x80 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(StatusLine(reply), "HTTP/1.1 404 Not Found") << reply;
  std::string body = reply.substr(reply.find("\r\n\r\n") + 4);
  EXPECT_TRUE(IsValidUtf8(body)) << body;
  EXPECT_NE(body.find("\xef\xbf\xbd"), std::string::npos) << body;
  EXPECT_NE(reply.find("X-Content-Type-Options: nosniff"), std::string::npos) << reply;

  auto page = client_->Get("/");
  EXPECT_NE(page.Header("content-security-policy").find("frame-ancestors 'none'"),
            std::string::npos)
      << page.Header("content-security-policy");
  EXPECT_EQ(client_->Post("/events", kEvent).Header("x-content-type-options"), "nosniff");
}

TEST_F(SecurityTest, AllowedHostsPinsTheHostHeader) {
  Start({"--allowed-hosts", "localhost, Collector.Local"});
  std::string port = std::to_string(server_->port());
  auto get = [&](const std::string& host) {
    return StatusLine(RawExchange(
        server_->port(), "GET /stats HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"));
  };
  EXPECT_EQ(get("localhost:" + port), "HTTP/1.1 200 OK");
  EXPECT_EQ(get("LOCALHOST"), "HTTP/1.1 200 OK");
  EXPECT_EQ(get("collector.local:" + port), "HTTP/1.1 200 OK");
  EXPECT_EQ(get("evil.example:" + port), "HTTP/1.1 403 Forbidden") << "DNS rebinding";
  EXPECT_EQ(get("localhost.evil.example"), "HTTP/1.1 403 Forbidden");
}

TEST_F(SecurityTest, AnEmptySecuritySettingIsAnErrorNotOff) {
  std::string tokens = TokenFile("tok\n");
  std::string config = dir_.File("c.toml");
  std::ofstream(config) << "auth-token-file = \"" << tokens << "\"\n";
  setenv("CISTERN_AUTH_TOKEN_FILE", "", 1);
  RunResult r = RunCistern({"--config", config, "--db", db(), "--addr", "127.0.0.1:0"});
  unsetenv("CISTERN_AUTH_TOKEN_FILE");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("CISTERN_AUTH_TOKEN_FILE is set but empty"), std::string::npos)
      << r.output;
  std::ofstream(config) << "auth-token-file = \"\"\n";
  r = RunCistern({"--config", config, "--db", db(), "--addr", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("auth-token-file is empty"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace cistern::testing
