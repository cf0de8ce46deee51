// End to end with the official MCP TypeScript SDK client: the real collector takes events
// over HTTP, and `node client/mcp_client_test.mjs` drives the real cistern-mcp against the
// same live database (see that script for the checks).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/cistern_process.h"
#include "support/http_client.h"
#include "support/spawn.h"
#include "support/sqlite_peek.h"
#include "support/temp_dir.h"

namespace cistern::testing {
namespace {

TEST(SdkClientTest, OfficialClientDrivesTheServerAgainstALiveCollector) {
  const std::string client_dir = CISTERN_MCP_CLIENT_DIR;
  struct stat st;
  ASSERT_EQ(stat((client_dir + "/node_modules/@modelcontextprotocol/sdk").c_str(), &st), 0)
      << "the MCP SDK is not installed: run scripts/install-deps (npm ci in " << client_dir << ")";
  TempDir dir;
  const std::string db = dir.File("events.db");
  CisternProcess server(dir.path(), db, {"--sink", "none"});
  ASSERT_TRUE(server.started()) << server.Log();
  HttpClient http("127.0.0.1", server.port());
  // 5 events from d1, 3 from d2, 1 from d3.
  auto r =
      http.Post("/events", R"([{"device_id":"d1","kind":"t","payload":{"v":1}},)"
                           R"({"device_id":"d2","kind":"t"},{"device_id":"d1","kind":"t"},)"
                           R"({"device_id":"d3","kind":"alarm"},{"device_id":"d1","kind":"t"},)"
                           R"({"device_id":"d2","kind":"t"},{"device_id":"d1","kind":"t"}])");
  ASSERT_EQ(r.status, 200) << r.body;
  r = http.Post("/events", R"([{"device_id":"d1","kind":"t"},{"device_id":"d2","kind":"t"}])");
  ASSERT_EQ(r.status, 200) << r.body;

  auto run = RunProgram(
      {NODE_EXECUTABLE, client_dir + "/mcp_client_test.mjs", CISTERN_MCP_BINARY, db,
       std::to_string(server.port()), R"({"backlog":9,"devices":{"d1":5,"d2":3,"d3":1}})"},
      std::chrono::seconds(90));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  // The refused writes changed nothing: the 9 events plus the 3 posted mid-session.
  EXPECT_EQ(CountEvents(db), 12);
  EXPECT_NE(stat(dir.File("vacuum-copy.db").c_str(), &st), 0) << "VACUUM INTO wrote a file";
  EXPECT_EQ(server.Stop(), 0) << server.Log();
}

}  // namespace
}  // namespace cistern::testing
