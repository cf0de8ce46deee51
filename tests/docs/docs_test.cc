// The documentation's runnable examples (docs/runnable-docs.md) against a live collector: every
// fence marked `runnable` in README.md and docs/*.md runs, in document order (README first,
// then docs/ by name), against one real `cistern` started here on free loopback ports with a
// real SQLite file. A failing block is reported with its file:line and output; the rest still
// run, so one broken recipe shows every other problem too.
//
// What the blocks get (docs/runnable-docs.md, "What a block can rely on"):
//  - the working directory holds the live database as `events.db`, and `build` links to the
//    build directory (`./build/cistern` works); the binaries are also on PATH;
//  - `localhost:8080` and `127.0.0.1:8080` are rewritten to the collector's HTTP port,
//    `127.0.0.1:1883` and `-p 1883` to its MQTT listener;
//  - TOKEN is set (the collector runs without tokens, so any value is accepted); HOME is an
//    empty directory (no ~/.sqliterc); no CISTERN_* variable leaks in from the test's caller.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "docs/doc_blocks.h"
#include "docs/doc_runner.h"
#include "support/cistern_process.h"
#include "support/mqtt_raw_client.h"
#include "support/temp_dir.h"

namespace cistern::testing::docs {
namespace {

namespace fs = std::filesystem;

// Markdown files in the order their blocks run: README.md, then docs/*.md by name.
std::vector<std::string> DocFiles() {
  std::vector<std::string> files = {"README.md"};
  std::vector<std::string> in_docs;
  for (const auto& entry : fs::directory_iterator(fs::path(CISTERN_SOURCE_DIR) / "docs")) {
    if (entry.path().extension() == ".md") {
      in_docs.push_back("docs/" + entry.path().filename().string());
    }
  }
  std::sort(in_docs.begin(), in_docs.end());
  files.insert(files.end(), in_docs.begin(), in_docs.end());
  return files;
}

TEST(Docs, RunnableExamplesRunAgainstALiveCollector) {
  TempDir dir;
  const std::string work = dir.File("work");
  const std::string scratch = dir.File("scratch");
  fs::create_directories(work);
  fs::create_directories(scratch + "/home");
  const std::string bin_dir = fs::path(CISTERN_BINARY).parent_path().string();
  fs::create_directory_symlink(bin_dir, work + "/build");

  const uint16_t mqtt_port = FreePort();
  CisternProcess server(scratch, work + "/events.db",
                        {"--mqtt-listen", "127.0.0.1:" + std::to_string(mqtt_port)});
  ASSERT_TRUE(server.started()) << server.Log();
  const std::string http = std::to_string(server.port());
  const std::string mqtt = std::to_string(mqtt_port);

  RunContext context;
  context.work_dir = work;
  context.scratch_dir = scratch;
  context.sqlite_db = work + "/events.db";
  context.prelude =
      "unset $(compgen -e | grep '^CISTERN_' || true)\n"
      "export PATH='" +
      bin_dir + "':\"$PATH\" HOME='" + scratch + "/home' TOKEN=docs-test-token\n";
  context.rewrites = {{"localhost:8080", "localhost:" + http},
                      {"127.0.0.1:8080", "127.0.0.1:" + http},
                      {"127.0.0.1:1883", "127.0.0.1:" + mqtt},
                      {"-p 1883", "-p " + mqtt}};
  context.timeout = std::chrono::seconds(60);

  auto start = std::chrono::steady_clock::now();
  size_t readme_blocks = 0;
  for (const std::string& file : DocFiles()) {
    std::string text = ReadFile(std::string(CISTERN_SOURCE_DIR) + "/" + file);
    ASSERT_FALSE(text.empty()) << file;
    std::vector<std::string> errors;
    std::vector<DocBlock> blocks = ExtractRunnable(file, text, &errors);
    for (const std::string& e : errors) ADD_FAILURE() << e;
    if (file == "README.md") readme_blocks = blocks.size();
    size_t failed = 0;
    auto file_start = std::chrono::steady_clock::now();
    for (const DocBlock& block : blocks) {
      BlockOutcome outcome = RunBlock(block, context);
      if (!outcome.ok) {
        ++failed;
        ADD_FAILURE() << outcome.report;
      }
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - file_start)
                  .count();
    if (!blocks.empty()) {
      std::cout << file << ": " << blocks.size() << " runnable blocks, " << failed << " failed, "
                << ms << " ms\n";
    }
  }
  std::cout << "all blocks: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count()
            << " ms\n";
  // A floor, so that losing the markers (an edit that drops `runnable`) cannot pass unnoticed.
  EXPECT_GE(readme_blocks, 11u) << "README.md lost runnable examples";
  EXPECT_EQ(server.Stop(), 0) << server.Log();
}

}  // namespace
}  // namespace cistern::testing::docs
