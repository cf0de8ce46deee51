// Running one runnable Markdown block (doc_blocks.h) and judging it (docs/runnable-docs.md).
//
// Contract:
//  - The block's text first gets every (from, to) rewrite of the context, in order (e.g.
//    "localhost:8080" -> the live collector's address), code and expected output alike.
//  - file=NAME blocks are written to work_dir/NAME; nothing runs.
//  - Shell blocks run as one `bash` script in work_dir: the context's prelude, then
//    `set -euo pipefail`, then the steps, each checked step followed by a separator line the
//    runner prints, so every step's output is cut out of the one output stream (stdout and
//    stderr together, stdin /dev/null).
//  - SQL blocks run as one `sqlite3 -batch -bail -readonly -init /dev/null <sqlite_db>` with the
//    block on stdin (a `.print` separator after each checked step).
//  - A block fails when it exits non-zero, runs longer than `timeout` (its whole process group is
//    then killed), or a checked step's output does not match. The report names file:line of
//    the block (and of the step's expected output) and shows the output.
//  - Whatever the block started and left running is killed with its process group afterwards.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "docs/doc_blocks.h"

namespace cistern::testing::docs {

struct RunContext {
  std::string work_dir;     // the blocks' working directory (files they make, file= blocks)
  std::string scratch_dir;  // where the runner keeps its scripts and outputs
  std::string sqlite_db;    // the database SQL blocks read
  std::string prelude;      // bash lines run before every shell block (exports, cd)
  std::vector<std::pair<std::string, std::string>> rewrites;
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

struct BlockOutcome {
  bool ok = false;
  std::string report;  // "" when ok; else what failed, with file:line and the output
  std::chrono::milliseconds elapsed{0};
};

BlockOutcome RunBlock(const DocBlock& block, const RunContext& context);

}  // namespace cistern::testing::docs
