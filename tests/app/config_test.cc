// Config sources: flags, CISTERN_* environment variables and a TOML file (--config), with
// precedence flag > env > file > default; bad config is one line and exit code 2.
#include "app/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/store.h"
#include "support/cistern_process.h"
#include "support/temp_dir.h"

namespace cistern {
namespace {

using testing::RunCistern;
using testing::RunResult;

class ConfigTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& name : env_) unsetenv(name.c_str());
  }
  void SetEnv(const std::string& name, const std::string& value) {
    setenv(name.c_str(), value.c_str(), 1);
    env_.push_back(name);
  }
  std::string File(const std::string& name, const std::string& content) {
    std::string path = dir_.File(name);
    std::ofstream(path) << content;
    return path;
  }
  ParsedArgs Parse(std::vector<std::string> args) {
    args.insert(args.begin(), "cistern");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return ParseArgs(static_cast<int>(argv.size()), argv.data());
  }
  // The one line a bad configuration prints; fails unless it exits 2 with one line.
  std::string BadConfigLine(const std::vector<std::string>& args) {
    RunResult r = RunCistern(args);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_EQ(r.output.rfind("cistern: ", 0), 0u) << r.output;
    return r.output;
  }
  testing::TempDir dir_;
  std::vector<std::string> env_;
};

// Issue 16: `--nats-url http://...` was accepted and retried forever as an outage; a sink's
// own checks now run with the rest of the configuration, before the database is created
// (and with --print-config).
TEST_F(ConfigTest, ASinkThatCannotBeBuiltIsAConfigErrorBeforeTheDisk) {
  const std::string db = dir_.File("never.db");
  std::string line = BadConfigLine({"--db", db, "--addr", "127.0.0.1:0", "--sink", "nats",
                                    "--nats-url", "http://127.0.0.1:4222"});
  EXPECT_NE(line.find("'http://127.0.0.1:4222' is not a NATS URL"), std::string::npos) << line;
  EXPECT_FALSE(std::filesystem::exists(db)) << "the database was created before the check";
  line = BadConfigLine(
      {"--db", db, "--sink", "nats", "--nats-url", "http://127.0.0.1:4222", "--print-config"});
  EXPECT_NE(line.find("is not a NATS URL"), std::string::npos) << line;
}

// Issue 16: --print-config said `indexed = false` of a file that has the index (created by an
// earlier --indexed run; nothing drops it).
TEST_F(ConfigTest, PrintConfigSaysTheIndexTheDatabaseFileHas) {
  const std::string db = dir_.File("indexed.db");
  {
    StoreOptions o;
    o.path = db;
    o.indexed = true;
    auto store = Store::Open(o);
    ASSERT_TRUE(store.ok()) << store.status().message();
    (*store)->Close();
  }
  RunResult r = RunCistern({"--db", db, "--print-config"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("indexed = false  # default; in effect: true (" + db +
                          " has the device index, which indexed = false does not drop)"),
            std::string::npos)
      << r.output;
  r = RunCistern({"--db", db, "--print-config", "--indexed"});
  EXPECT_NE(r.output.find("indexed = true  # command line\n"), std::string::npos) << r.output;
  // No file, or one without the index: the setting is what is in effect; nothing is created.
  const std::string none = dir_.File("none.db");
  r = RunCistern({"--db", none, "--print-config"});
  EXPECT_NE(r.output.find("indexed = false  # default\n"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(none));
}

TEST_F(ConfigTest, AByteBoundTooSmallForTheSchemaIsRefusedBeforeTouchingTheDisk) {
  const std::string db = dir_.File("never.db");
  std::string line = BadConfigLine({"--db", db, "--max-db-bytes", "64KiB"});
  EXPECT_NE(line.find("too small for the schema"), std::string::npos) << line;
  EXPECT_NE(line.find("80.0 KiB"), std::string::npos) << line;
  EXPECT_FALSE(std::filesystem::exists(db)) << "the database was created";
  line = BadConfigLine({"--db", db, "--max-db-bytes", "80KiB", "--indexed"});
  EXPECT_NE(line.find("84.0 KiB"), std::string::npos) << "--indexed adds a page: " << line;
  EXPECT_TRUE(Parse({"--max-db-bytes", "80KiB"}).action == ParsedArgs::Action::kRun);
}

// Issue 16: `--max-backlog -1` printed a 300-digit range.
TEST_F(ConfigTest, ANegativeCountSaysWhatIsExpectedInAFewWords) {
  std::string line = BadConfigLine({"--max-backlog", "-1"});
  EXPECT_NE(line.find("0 or more"), std::string::npos) << line;
  EXPECT_LT(line.size(), 160u) << line;
  line = BadConfigLine({"--flaky-every", "x"});
  EXPECT_NE(line.find("0 or more"), std::string::npos) << line;
  EXPECT_EQ(Parse({"--max-backlog", "0"}).config.store.max_backlog, 0);
}

TEST_F(ConfigTest, FlagBeatsEnvBeatsFileBeatsDefault) {
  std::string file = File("c.toml", "max-backlog = 100\nmax-batch-events = 7\n");
  EXPECT_EQ(Parse({}).config.store.max_backlog, 50'000);
  EXPECT_EQ(Parse({"--config", file}).config.store.max_backlog, 100);
  SetEnv("CISTERN_MAX_BACKLOG", "200");
  auto env_wins = Parse({"--config", file});
  EXPECT_EQ(env_wins.config.store.max_backlog, 200);
  EXPECT_EQ(env_wins.config.router.parse.max_events, 7u) << "the file still sets the rest";
  EXPECT_EQ(Parse({"--config", file, "--max-backlog", "300"}).config.store.max_backlog, 300);
  EXPECT_EQ(Parse({"--max-backlog", "300"}).config.store.max_backlog, 300);
}

TEST_F(ConfigTest, TheFileIsFoundThroughCisternConfigToo) {
  SetEnv("CISTERN_CONFIG", File("c.toml", "db = \"/var/lib/cistern/x.db\"\n"));
  EXPECT_EQ(Parse({}).config.store.path, "/var/lib/cistern/x.db");
  EXPECT_EQ(Parse({"--db", "y.db"}).config.store.path, "y.db");
}

TEST_F(ConfigTest, TypesFromTomlAndEnvGoThroughTheFlagsParsers) {
  std::string file = File("c.toml",
                          "indexed = true\n"
                          "upload-interval = \"250ms\"\n"
                          "max-body-bytes = 2048\n"
                          "max-payload-bytes = \"1KiB\"\n"
                          "sink = \"webhook\"\n"
                          "webhook-url = \"http://127.0.0.1:9/x\"\n"
                          "webhook-gzip = true\n"
                          "on-full = \"drop-oldest\"\n");
  SetEnv("CISTERN_WEBHOOK_GZIP", "false");
  SetEnv("CISTERN_ADDR", "[::1]:9999");
  ParsedArgs p = Parse({"--config", file});
  ASSERT_EQ(p.action, ParsedArgs::Action::kRun);
  EXPECT_TRUE(p.config.store.indexed);
  EXPECT_EQ(p.config.uploader.interval, std::chrono::milliseconds(250));
  EXPECT_EQ(p.config.router.max_body_bytes, 2048u);
  EXPECT_EQ(p.config.router.parse.max_payload_bytes, 1024u);
  EXPECT_EQ(p.config.sink.name, "webhook");
  EXPECT_EQ(p.config.sink.webhook_url, "http://127.0.0.1:9/x");
  EXPECT_FALSE(p.config.sink.webhook_gzip) << "env beats file for flags too";
  EXPECT_EQ(p.config.store.on_full, OnFull::kDropOldest);
  EXPECT_EQ(p.config.server.host, "::1");
  EXPECT_EQ(p.config.server.port, 9999);
}

TEST_F(ConfigTest, BadConfigIsOneLineNamingWhereAndExitCode2) {
  std::string line = BadConfigLine({"--config", File("a.toml", "# ok\nmode = \"fast\"\n")});
  EXPECT_NE(line.find("a.toml:2"), std::string::npos) << line;
  EXPECT_NE(line.find("fast"), std::string::npos) << line;
  line = BadConfigLine({"--config", File("b.toml", "max-backlogg = 5\n")});
  EXPECT_NE(line.find("unknown key 'max-backlogg'"), std::string::npos) << line;
  line = BadConfigLine({"--config", File("c.toml", "max-backlog = [1, 2]\n")});
  EXPECT_NE(line.find("expected a string, number or boolean"), std::string::npos) << line;
  line = BadConfigLine({"--config", File("d.toml", "max-backlog = \n")});
  EXPECT_NE(line.find("d.toml:1:"), std::string::npos) << line;
  line = BadConfigLine({"--config", File("e.toml", "header-timeout = \"soon\"\n")});
  EXPECT_NE(line.find("header-timeout in "), std::string::npos) << line;
  line = BadConfigLine({"--config", File("f.toml", "config = \"other.toml\"\n")});
  EXPECT_NE(line.find("unknown key 'config'"), std::string::npos) << line;
  line = BadConfigLine({"--config", dir_.File("missing.toml")});
  EXPECT_NE(line.find("cannot read it"), std::string::npos) << line;

  SetEnv("CISTERN_MAX_BACKLOGG", "5");
  line = BadConfigLine({});
  EXPECT_NE(line.find("unknown environment variable CISTERN_MAX_BACKLOGG"), std::string::npos)
      << line;
  unsetenv("CISTERN_MAX_BACKLOGG");
  SetEnv("CISTERN_MAX_BACKLOG", "-3");
  line = BadConfigLine({});
  EXPECT_NE(line.find("CISTERN_MAX_BACKLOG"), std::string::npos) << line;
}

TEST_F(ConfigTest, PrintConfigShowsOriginsHidesSecretsAndRoundTrips) {
  std::string file = File("c.toml",
                          "mode = \"serialized\"\n"
                          "webhook-authorization = \"Bearer s3cret-value\"\n"
                          "nats-subject = \"a \\\"quoted\\\" subject\"\n");
  SetEnv("CISTERN_MAX_BACKLOG", "1234");
  RunResult r = RunCistern({"--config", file, "--print-config", "--upload-batch", "77"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("mode = \"serialized\"  # " + file + ":1"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("max-backlog = 1234  # CISTERN_MAX_BACKLOG"), std::string::npos);
  EXPECT_NE(r.output.find("upload-batch = 77  # command line"), std::string::npos);
  EXPECT_NE(r.output.find("on-full = \"reject\"  # default"), std::string::npos);
  EXPECT_EQ(r.output.find("s3cret"), std::string::npos) << "a secret was printed";
  EXPECT_NE(r.output.find("# webhook-authorization: set (secret, not shown)"), std::string::npos);

  // Fed back as a file (with no env), it gives the same configuration.
  unsetenv("CISTERN_MAX_BACKLOG");
  std::string again = File("again.toml", r.output);
  RunResult r2 = RunCistern({"--config", again, "--print-config"});
  ASSERT_EQ(r2.exit_code, 0) << r2.output;
  auto values = [](const std::string& text) {
    std::istringstream in(text);
    std::string line, out;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      out += line.substr(0, line.find("  # ")) + "\n";
    }
    return out;
  };
  EXPECT_EQ(values(r2.output), values(r.output));
  EXPECT_NE(values(r2.output).find("nats-subject = \"a \\\"quoted\\\" subject\""),
            std::string::npos)
      << r2.output;
}

}  // namespace
}  // namespace cistern
