// HTTPS on the same listener (--tls-cert/--tls-key), with a self-signed certificate the test
// makes with the openssl CLI, and curl as the client (a real third-party TLS client).
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

std::string RunShell(const std::string& cmd, int* exit_code = nullptr) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  int status = pclose(p);
  if (exit_code) *exit_code = WEXITSTATUS(status);
  return out;
}

class TlsTest : public ServerTest {
 protected:
  void MakeCertificate() {
    cert_ = dir_.File("cert.pem");
    key_ = dir_.File("key.pem");
    int code = -1;
    std::string out = RunShell(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost"
        " -addext subjectAltName=IP:127.0.0.1 -keyout '" +
            key_ + "' -out '" + cert_ + "'",
        &code);
    ASSERT_EQ(code, 0) << out;
  }
  std::string Curl(const std::string& args, int* code) {
    return RunShell("curl -sS --max-time 10 --cacert '" + cert_ + "' " + args, code);
  }
  std::string cert_, key_;
};

TEST_F(TlsTest, EventsArriveOverHttpsAndPlainHttpIsNotServed) {
  MakeCertificate();
  Start({"--tls-cert", cert_, "--tls-key", key_});
  std::string base = "https://127.0.0.1:" + std::to_string(server_->port());
  int code = -1;
  std::string out = Curl("-d '{\"device_id\":\"a\",\"kind\":\"t\"}' " + base + "/events", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("\"accepted\":1"), std::string::npos) << out;
  out = Curl("-d '[{\"device_id\":\"b\",\"kind\":\"t\"},{\"device_id\":\"c\",\"kind\":\"t\"}]' " +
                 base + "/events",
             &code);
  EXPECT_NE(out.find("\"accepted\":2"), std::string::npos) << out;
  EXPECT_EQ(Rows(), 3);
  out = Curl(base + "/healthz", &code);
  EXPECT_NE(out.find("\"ok\":true"), std::string::npos) << out;
  // A plain-HTTP client gets no answer from the TLS listener.
  client_ = std::make_unique<HttpClient>("127.0.0.1", server_->port(), std::chrono::seconds(3));
  EXPECT_NE(client_->Post("/events", R"({"device_id":"x","kind":"t"})").status, 200);
  client_.reset();
  EXPECT_EQ(Rows(), 3);
}

// Issue 15.5: TLS 1.2 took OpenSSL's default list (static RSA, CBC/SHA-1). Only ECDHE with
// AEAD is offered now; TLS 1.3 stays. openssl s_client is the peer.
TEST_F(TlsTest, Tls12OffersOnlyForwardSecretAeadSuites) {
  MakeCertificate();
  Start({"--tls-cert", cert_, "--tls-key", key_});
  EXPECT_NE(server_->Log().find("listening on https://"), std::string::npos) << server_->Log();
  // A handshake that completed prints its suite ("Ciphersuite: ..."); the exit code alone
  // depends on how the connection ended afterwards. Nothing is sent (stdin is empty).
  const std::string connect =
      "timeout 10 openssl s_client -brief -connect 127.0.0.1:" + std::to_string(server_->port()) +
      " </dev/null";
  auto handshake = [&](const std::string& args, std::string* out) {
    int code = -1;
    *out = RunShell(connect + " " + args, &code);
    return out->find("Ciphersuite:") != std::string::npos;
  };
  std::string out;
  for (const char* weak : {"AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA",
                           "ECDHE-RSA-AES256-SHA384", "DHE-RSA-AES128-GCM-SHA256"}) {
    EXPECT_FALSE(handshake(std::string("-tls1_2 -cipher ") + weak, &out))
        << weak << " was accepted:\n"
        << out;
  }
  for (const char* strong : {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305"}) {
    EXPECT_TRUE(handshake(std::string("-tls1_2 -cipher ") + strong, &out))
        << strong << " was refused:\n"
        << out;
    EXPECT_NE(out.find(strong), std::string::npos) << out;
  }
  EXPECT_TRUE(handshake("-tls1_3", &out)) << out;
  EXPECT_NE(out.find("TLSv1.3"), std::string::npos) << out;
}

TEST_F(TlsTest, ACertificateThatDoesNotLoadIsAClearError) {
  MakeCertificate();
  RunResult r = RunCistern({"--db", dir_.File("e.db"), "--addr", "127.0.0.1:0", "--tls-cert",
                            dir_.File("missing.pem"), "--tls-key", key_});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--tls-cert"), std::string::npos) << r.output;
  r = RunCistern({"--db", dir_.File("f.db"), "--addr", "127.0.0.1:0", "--tls-cert", cert_});
  EXPECT_EQ(r.exit_code, 2) << "a usage error, found before the database is touched";
  EXPECT_NE(r.output.find("--tls-key"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("f.db")));
}

}  // namespace
}  // namespace cistern::testing
