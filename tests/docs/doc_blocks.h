// Runnable examples in Markdown (docs/runnable-docs.md): extracting the fenced blocks marked
// `runnable` and judging their output. Pure text handling; running them is doc_runner.h.
//
// Contract:
//  - A block is runnable when its fence's info string has the word `runnable` after the
//    language: ```bash runnable, ```sql runnable, ```yaml runnable file=rules.yml.
//    Other words are refused (an error, not ignored), so a typo cannot silently turn a check off.
//  - `file=NAME` (a plain file name) makes the block a file written into the examples'
//    working directory instead of code to run; any language.
//  - Without `file=`, the language must be `sh`, `bash` or `shell` (run by bash) or `sql`
//    (run by the sqlite3 CLI against the live database).
//  - Inside a code block, expected-output lines follow the code whose output they show: `#> `
//    in shell, `--> ` in SQL (the marker alone is an empty line). The code up to and including
//    one run of such lines is a step; its output (stdout and stderr together) must match them.
//    Code after the last run of them is a step whose output is not checked.
//  - Matching (MatchOutput): line by line, trailing whitespace and trailing empty lines
//    ignored; `...` inside a line matches any text within that line; a line that is exactly
//    `...` matches any number of lines, none included.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cistern::testing::docs {

struct DocStep {
  std::string code;                   // the step's code, lines joined with '\n'
  std::vector<std::string> expected;  // expected output lines, markers stripped
  bool checked = false;               // false: the step had no expected-output lines
  int expected_line = 0;              // 1-based line of its first expected-output line
};

struct DocBlock {
  std::string file;        // as given to ExtractRunnable (e.g. "README.md")
  int line = 0;            // 1-based line of the opening fence
  std::string language;    // first word of the info string
  std::string write_file;  // the file= value, or "" for code
  std::string body;        // the block's text (fence indentation removed), '\n'-terminated lines
  std::string Where() const { return file + ":" + std::to_string(line); }
};

// Every runnable block of `text`, in order. Problems (an unknown word after `runnable`, a bad
// file name, a language that cannot run, an unclosed fence) are appended to *errors as
// "file:line: what" and the block is left out.
std::vector<DocBlock> ExtractRunnable(const std::string& file, std::string_view text,
                                      std::vector<std::string>* errors);

// The marker that starts an expected-output line in `language` ("#>" or "-->"), or "".
std::string_view OutputMarker(std::string_view language);

// Splits a code block's body (after any rewriting) into steps; `first_line` is the file line
// of the body's first line, for DocStep::expected_line.
std::vector<DocStep> SplitSteps(std::string_view body, std::string_view marker, int first_line);

// True when `actual` (raw output) matches the expected lines by the rules above.
bool MatchOutput(const std::vector<std::string>& expected, std::string_view actual);

// `text` split into lines (without '\n'), trailing whitespace of each line and trailing empty
// lines removed: the form outputs are compared and reported in.
std::vector<std::string> NormalizedLines(std::string_view text);

}  // namespace cistern::testing::docs
