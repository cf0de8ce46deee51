// Access control: bearer tokens from a file protect POST /events (and, separately, /stats);
// /healthz stays open; rejected requests store nothing.
#include <fstream>

#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

class AuthTest : public ServerTest {
 protected:
  std::string TokenFile(const std::string& name, const std::string& content) {
    std::string path = dir_.File(name);
    std::ofstream(path) << content;
    return path;
  }
};

TEST_F(AuthTest, IngestNeedsOneOfTheTokensAndStatsTheAdminToken) {
  Start({"--auth-token-file",
         TokenFile("ingest", "# devices of line 3\n  dev-token-1  \n\ndev-token-2\n"),
         "--admin-token-file", TokenFile("admin", "admin-secret\n")});
  const std::string event = R"({"device_id":"a","kind":"t"})";

  auto r = client_->Post("/events", event);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("www-authenticate"), "Bearer realm=\"cistern\"");
  EXPECT_NE(r.body.find("missing bearer token"), std::string::npos) << r.body;
  r = client_->Post("/events", event, {{"Authorization", "Bearer dev-token-3"}});
  EXPECT_EQ(r.status, 401);
  r = client_->Post("/events", event, {{"Authorization", "Bearer dev-token-1x"}});
  EXPECT_EQ(r.status, 401);
  r = client_->Post("/events", event, {{"Authorization", "Basic dev-token-1"}});
  EXPECT_EQ(r.status, 401);
  r = client_->Post("/events", event, {{"Authorization", "Bearer admin-secret"}});
  EXPECT_EQ(r.status, 401) << "the admin token is not an ingest token";
  EXPECT_EQ(Rows(), 0);

  EXPECT_EQ(client_->Post("/events", event, {{"Authorization", "Bearer dev-token-1"}}).status, 200);
  EXPECT_EQ(client_->Post("/events", event, {{"Authorization", "Bearer dev-token-2"}}).status, 200);
  EXPECT_EQ(Rows(), 2);

  EXPECT_EQ(client_->Get("/healthz").status, 200);
  EXPECT_EQ(client_->Get("/stats").status, 401);
  auto s = client_->Request("GET", "/stats", "", {{"Authorization", "Bearer admin-secret"}});
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(JsonInt(s.body, "/http/responses/401"), 6);
}

TEST_F(AuthTest, AnUnusableTokenFileIsOneLineAndExitCode2) {
  RunResult r = RunCistern({"--auth-token-file", dir_.File("missing")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--auth-token-file"), std::string::npos) << r.output;
  r = RunCistern({"--admin-token-file", TokenFile("empty", "# nothing here\n\n")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("holds no token"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace cistern::testing
