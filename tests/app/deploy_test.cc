// The deployment files: the systemd unit passes `systemd-analyze verify` with no complaint and
// keeps the directives the daemon relies on; the example config is valid; the Dockerfile's
// runtime packages exist in Debian 12 (the image itself is not built here: no Docker engine).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "support/cistern_process.h"
#include "support/temp_dir.h"

namespace cistern::testing {
namespace {

const std::string kSource = CISTERN_SOURCE_DIR;

TEST(Deploy, SystemdUnitVerifiesCleanlyAndKeepsTheContract) {
  std::string unit = ReadFile(kSource + "/deploy/systemd/cistern.service");
  ASSERT_FALSE(unit.empty());
  for (const char* line :
       {"Type=notify\n", "WatchdogSec=", "User=cistern\n", "StateDirectory=cistern\n",
        "ExecStart=/usr/local/bin/cistern --config /etc/cistern/cistern.toml\n",
        "NoNewPrivileges=yes\n", "Restart=on-failure\n", "ExecReload=/bin/kill -HUP $MAINPID\n"}) {
    EXPECT_NE(unit.find(line), std::string::npos) << "missing " << line;
  }
  // Settings belong in the config file: an Environment=CISTERN_* line would beat the file the
  // operator edits (flag > env > file > default; docs/packaging.md).
  EXPECT_EQ(unit.find("\nEnvironment=CISTERN_"), std::string::npos)
      << "the unit overrides the config file";
  // Documentation= names the docs the package installs (issue 16: was a placeholder URL):
  // /usr/share/doc/cistern/<path> is <path> of the source tree (cmake/packaging.cmake).
  EXPECT_EQ(unit.find("example.invalid"), std::string::npos) << "a placeholder URL";
  std::istringstream lines(unit);
  int documented = 0;
  for (std::string line; std::getline(lines, line);) {
    const std::string key = "Documentation=file:///usr/share/doc/cistern/";
    if (line.rfind("Documentation=", 0) != 0) continue;
    ASSERT_EQ(line.rfind(key, 0), 0u) << line;
    EXPECT_TRUE(std::filesystem::is_regular_file(kSource + "/" + line.substr(key.size()))) << line;
    ++documented;
  }
  EXPECT_GE(documented, 1);
  // verify checks the ExecStart binary exists: point it at the one just built.
  TempDir dir;
  std::string copy = dir.File("cistern.service");
  std::ofstream(copy) << std::regex_replace(unit, std::regex("/usr/local/bin/cistern"),
                                            std::string(CISTERN_BINARY));
  RunResult r = RunProgram({"/usr/bin/systemd-analyze", "verify", copy}, std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "") << "systemd-analyze complained";
}

TEST(Deploy, ExampleConfigIsValid) {
  RunResult r = RunCistern({"--config", kSource + "/deploy/cistern.toml", "--print-config"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("db = \"/var/lib/cistern/events.db\""), std::string::npos) << r.output;
}

TEST(Deploy, DockerfileRuntimePackagesExistInDebian12) {
  std::string dockerfile = ReadFile(kSource + "/Dockerfile");
  // The runtime stage's package list: the last apt-get install before the first `rm`.
  auto stage = dockerfile.rfind("FROM debian:12-slim");
  ASSERT_NE(stage, std::string::npos);
  auto from = dockerfile.find("--no-install-recommends", stage);
  auto to = dockerfile.find("&&", from);
  ASSERT_NE(from, std::string::npos);
  std::istringstream words(dockerfile.substr(from, to - from));
  std::vector<std::string> packages;
  for (std::string w; words >> w;) {
    if (w != "\\" && w.rfind("--", 0) != 0) packages.push_back(w);
  }
  ASSERT_GE(packages.size(), 10u);
  std::vector<std::string> argv = {"/usr/bin/apt-cache", "show", "--no-all-versions"};
  argv.insert(argv.end(), packages.begin(), packages.end());
  RunResult r = RunProgram(argv, std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const auto& p : packages) {
    EXPECT_NE(r.output.find("Package: " + p + "\n"), std::string::npos) << p << " not in Debian";
  }
}

}  // namespace
}  // namespace cistern::testing
