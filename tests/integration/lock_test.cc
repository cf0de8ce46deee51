// One database per file across processes: a second collector fails at once naming the lock,
// while sqlite3 (the operator's CLI) reads the live file.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

class LockTest : public ServerTest {};

std::string RunShell(const std::string& cmd) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  if (!p) return out;
  char buf[256];
  while (fgets(buf, sizeof buf, p.get())) out += buf;
  return out;
}

TEST_F(LockTest, SecondCollectorOnTheSameFileExitsAtOnceNamingTheLock) {
  Start();
  ASSERT_EQ(client_->Post("/events", R"({"device_id":"a","kind":"t"})").status, 200);
  auto start = std::chrono::steady_clock::now();
  RunResult second = RunCistern({"--db", db(), "--addr", "127.0.0.1:0"});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_NE(second.exit_code, 0);
  EXPECT_NE(second.exit_code, -1) << "the second collector had to be killed";
  EXPECT_NE(second.output.find(db() + ".lock"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("in use"), std::string::npos) << second.output;
  EXPECT_LT(took, std::chrono::seconds(10));
  // The first collector is unharmed.
  EXPECT_EQ(client_->Post("/events", R"({"device_id":"a","kind":"t"})").status, 200);
  EXPECT_EQ(Rows(), 2);
}

TEST_F(LockTest, SqliteCliReadsTheLiveFile) {
  Start();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(client_->Post("/events", R"({"device_id":"a","kind":"t"})").status, 200);
  }
  std::string out = RunShell("sqlite3 -readonly '" + db() +
                             "' 'SELECT count(*) FROM events WHERE uploaded_at IS NULL' 2>&1");
  EXPECT_EQ(out, "5\n");
  // ... and the collector keeps writing while the CLI reads.
  ASSERT_EQ(client_->Post("/events", R"({"device_id":"a","kind":"t"})").status, 200);
  out = RunShell("sqlite3 '" + db() + "' 'SELECT max(id) FROM events' 2>&1");
  EXPECT_EQ(out, "6\n");
}

TEST_F(LockTest, BadFlagIsOneLineAndExitCode2) {
  RunResult r = RunCistern({"--max-backlog", "lots"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output.rfind("cistern: ", 0), 0u) << r.output;
  r = RunCistern({"--header-timeout", "5 parsecs"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--header-timeout"), std::string::npos) << r.output;
  r = RunCistern({"--addr", "nowhere"});
  EXPECT_EQ(r.exit_code, 2);
  r = RunCistern({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("--max-backlog"), std::string::npos);
}

TEST_F(LockTest, NotACisternDatabaseIsRefusedUntouched) {
  std::string other = dir_.File("other.db");
  RunShell("sqlite3 '" + other +
           "' 'CREATE TABLE accounts(id INTEGER); INSERT INTO accounts VALUES(1)'");
  RunResult r = RunCistern({"--db", other, "--addr", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("not Cistern's"), std::string::npos) << r.output;
  EXPECT_EQ(QueryInt(other, "SELECT count(*) FROM sqlite_master WHERE name='events'"), 0);
}

size_t Occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Issue 16: the lock file took the blame for a directory that does not exist.
TEST_F(LockTest, MissingDirectoryIsNamedNotTheLockFile) {
  const std::string missing = dir_.File("no/such/dir");
  RunResult r = RunCistern({"--db", missing + "/x.db", "--addr", "127.0.0.1:0", "--sink", "none"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("directory " + missing + " does not exist"), std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("lock"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("no"))) << "nothing is created on the way";
}

// Issue 16: a start-up failure printed its error twice, after "store ... closed" of a store
// that never opened.
TEST_F(LockTest, StartUpFailureIsPrintedOnceAndAlone) {
  std::string other = dir_.File("other.db");
  RunShell("sqlite3 '" + other + "' 'CREATE TABLE accounts(id INTEGER)'");
  RunResult r = RunCistern({"--db", other, "--addr", "127.0.0.1:0", "--sink", "none"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Occurrences(r.output, "not Cistern's"), 1u) << r.output;
  EXPECT_EQ(r.output.find("closed"), std::string::npos) << r.output;
  // A failure after the store opened (the address is taken): the error once, before the
  // store's own "closed" line.
  Start();
  r = RunCistern({"--db", dir_.File("second.db"), "--addr",
                  "127.0.0.1:" + std::to_string(server_->port()), "--sink", "none"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const size_t error = r.output.find("cistern: ");
  ASSERT_NE(error, std::string::npos) << r.output;
  EXPECT_EQ(Occurrences(r.output, "cistern: "), 1u) << r.output;
  EXPECT_LT(error, r.output.find("closed")) << r.output;
}

}  // namespace
}  // namespace cistern::testing
