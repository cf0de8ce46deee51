// The "devices silent for 10 minutes" recipes (README.md, "Query the buffer"; docs/mcp.md) must
// find a device that really is silent, not only parse: docs_test.cc runs them against fresh
// events, where their answer is empty. Here one device's last event is moved 11 minutes into the
// past (the collector stopped, as an operator's edit would be), and each recipe, cut from the
// Markdown itself, must name exactly that device; then its events are deleted, as retention
// would, and the recipes on `devices` must still name it.
#include <gtest/gtest.h>

#include <sstream>

#include "docs/doc_blocks.h"
#include "support/cistern_process.h"
#include "support/http_client.h"
#include "support/sqlite_peek.h"
#include "support/temp_dir.h"

namespace cistern::testing::docs {
namespace {

// The first statement (up to the line ending in ';') of every runnable SQL block of `file`
// containing `marker`.
std::vector<std::string> Recipes(const std::string& file, const std::string& marker) {
  std::vector<std::string> errors;
  std::vector<std::string> found;
  std::string text = ReadFile(std::string(CISTERN_SOURCE_DIR) + "/" + file);
  for (const DocBlock& b : ExtractRunnable(file, text, &errors)) {
    if (b.language != "sql" || b.body.find(marker) == std::string::npos) continue;
    std::string statement;  // comment lines skipped (they may hold a ';' of their own)
    std::istringstream lines(b.body);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("--", 0) == 0) continue;
      statement += line + "\n";
      if (!line.empty() && line.back() == ';') break;
    }
    found.push_back(statement);
  }
  return found;
}

TEST(Docs, SilentDeviceRecipesFindTheSilentDevice) {
  TempDir dir;
  const std::string db = dir.File("events.db");
  {
    CisternProcess server(dir.path(), db, {"--sink", "none"});
    ASSERT_TRUE(server.started()) << server.Log();
    HttpClient client("127.0.0.1", server.port());
    for (const char* device : {"quiet-1", "busy-1"}) {
      HttpResult r =
          client.Post("/events", std::string(R"({"device_id":")") + device + R"(","kind":"t"})");
      ASSERT_EQ(r.status, 200) << r.body;
    }
    ASSERT_EQ(server.Stop(), 0) << server.Log();
  }
  ASSERT_TRUE(ExecSql(db,
                      "UPDATE devices SET last_seen_at = last_seen_at - 660000 "
                      "WHERE device_key = 'quiet-1';"
                      "UPDATE event_log SET ts = ts - 660000 WHERE device_id = 'quiet-1';"));

  std::vector<std::string> recipes = Recipes("README.md", "silent for 10 minutes");
  ASSERT_EQ(recipes.size(), 1u) << "the README's recipe (a runnable sql block) is gone";
  EXPECT_NE(recipes[0].find("FROM devices"), std::string::npos) << recipes[0];
  std::vector<std::string> in_mcp_doc = Recipes("docs/mcp.md", "- 600000");
  ASSERT_EQ(in_mcp_doc.size(), 2u) << "docs/mcp.md's two recipes are gone";
  recipes.insert(recipes.end(), in_mcp_doc.begin(), in_mcp_doc.end());
  for (const std::string& sql : recipes) {
    auto rows = QueryRows(db, sql);
    ASSERT_EQ(rows.size(), 1u) << sql;
    EXPECT_EQ(rows[0][0], "quiet-1") << sql;
  }

  // Retention deletes the silent device's events: the recipes on `devices` still name it (the
  // README's point), the one on `events` no longer does (as docs/mcp.md says).
  ASSERT_TRUE(ExecSql(db, "DELETE FROM event_log WHERE device_id = 'quiet-1';"));
  for (const std::string& sql : {recipes[0], recipes[1]}) {
    auto rows = QueryRows(db, sql);
    ASSERT_EQ(rows.size(), 1u) << sql;
    EXPECT_EQ(rows[0][0], "quiet-1") << sql;
  }
  EXPECT_TRUE(QueryRows(db, recipes[2]).empty()) << recipes[2];
}

}  // namespace
}  // namespace cistern::testing::docs
