// The runnable-docs machinery itself (docs/runnable-docs.md): which fences count, how steps
// and expected output are cut, the matching rules, and that a wrong example really fails with
// its file:line (the live run over README.md and docs/ is docs_test.cc).
#include "docs/doc_blocks.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "docs/doc_runner.h"
#include "support/temp_dir.h"

namespace cistern::testing::docs {
namespace {

TEST(DocBlocks, OnlyFencesMarkedRunnableAreExtracted) {
  std::vector<std::string> errors;
  auto blocks = ExtractRunnable("x.md",
                                "# Title\n"
                                "```bash\necho not run\n```\n"
                                "```bash runnable\necho one\n```\n"
                                "  ~~~~sql runnable\n  SELECT 1;\n  ```\n  ~~~~\n"
                                "```yaml runnable file=rules.yml\ngroups: []\n```\n",
                                &errors);
  EXPECT_TRUE(errors.empty()) << errors[0];
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks[0].Where(), "x.md:5");
  EXPECT_EQ(blocks[0].language, "bash");
  EXPECT_EQ(blocks[0].body, "echo one\n");
  EXPECT_EQ(blocks[1].Where(), "x.md:8");
  EXPECT_EQ(blocks[1].language, "sql");
  EXPECT_EQ(blocks[1].body, "SELECT 1;\n```\n");  // a shorter fence does not close ~~~~
  EXPECT_EQ(blocks[2].write_file, "rules.yml");
}

TEST(DocBlocks, MistakesInMarkersAreErrorsNotSilentlySkipped) {
  std::vector<std::string> errors;
  auto blocks = ExtractRunnable("y.md",
                                "```bash runnable verbose\ntrue\n```\n"
                                "```python runnable\nprint(1)\n```\n"
                                "```toml runnable file=../etc/x.toml\na = 1\n```\n"
                                "```runnable\ntrue\n```\n"
                                "```sh runnable\ntrue\n",
                                &errors);
  EXPECT_TRUE(blocks.empty());
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_EQ(errors[0], "y.md:1: unknown word 'verbose' in a runnable fence");
  EXPECT_EQ(errors[1],
            "y.md:4: cannot run language 'python' (sh, bash, shell, sql; or add file=NAME)");
  EXPECT_EQ(errors[2], "y.md:7: bad file name in 'file=../etc/x.toml'");
  EXPECT_EQ(errors[3], "y.md:10: runnable block without a language");
  EXPECT_EQ(errors[4], "y.md:13: runnable block has no closing fence");
}

TEST(DocBlocks, StepsEndAfterEachRunOfExpectedOutput) {
  auto steps = SplitSteps(
      "curl a\n#> {\"ok\":1}\n#>\n#>   indented\ncurl b\ncurl c\n#> c\n# a comment\nlast\n", "#>",
      10);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].code, "curl a");
  EXPECT_EQ(steps[0].expected, (std::vector<std::string>{"{\"ok\":1}", "", "  indented"}));
  EXPECT_EQ(steps[0].expected_line, 11);
  EXPECT_EQ(steps[1].code, "curl b\ncurl c");
  EXPECT_EQ(steps[1].expected_line, 16);
  EXPECT_TRUE(steps[1].checked);
  EXPECT_EQ(steps[2].code, "# a comment\nlast");
  EXPECT_FALSE(steps[2].checked);
  // "#>x" is not a marker (the marker is followed by a space or ends the line).
  EXPECT_FALSE(SplitSteps("echo '#>x'\n#>x\n", "#>", 1)[0].checked);
}

TEST(DocBlocks, MatchingRules) {
  EXPECT_TRUE(MatchOutput({"a", "b"}, "a\nb\n"));
  EXPECT_TRUE(MatchOutput({"a", "b"}, "a  \nb\n\n\n"));  // trailing blanks ignored
  EXPECT_FALSE(MatchOutput({"a", "b"}, "a\nb\nc\n"));    // an extra line is a difference
  EXPECT_FALSE(MatchOutput({"a", "b"}, "a\n"));
  EXPECT_FALSE(MatchOutput({"a"}, " a\n"));  // leading whitespace counts
  EXPECT_TRUE(MatchOutput({"1|x|...|2"}, "1|x|1795704697226|2\n"));
  EXPECT_TRUE(MatchOutput({"1|x|...|2"}, "1|x||2\n"));
  EXPECT_FALSE(MatchOutput({"1|x|...|2"}, "1|y|5|2\n"));
  EXPECT_TRUE(MatchOutput({"{\"a\":...,\"b\":...}"}, "{\"a\":1,\"b\":[2,3]}"));
  EXPECT_FALSE(MatchOutput({"ab...ba"}, "aba"));  // the parts may not overlap
  EXPECT_TRUE(MatchOutput({"first", "...", "last"}, "first\nlast\n"));
  EXPECT_TRUE(MatchOutput({"first", "...", "last"}, "first\n1\n2\nlast\n"));
  EXPECT_FALSE(MatchOutput({"first", "...", "last"}, "first\n1\n2\n"));
  EXPECT_TRUE(MatchOutput({"..."}, ""));
  EXPECT_TRUE(MatchOutput({}, "\n"));
  EXPECT_FALSE(MatchOutput({}, "something\n"));
}

class DocRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.File("work"));
    std::filesystem::create_directories(dir_.File("scratch"));
    context_.work_dir = dir_.File("work");
    context_.scratch_dir = dir_.File("scratch");
    context_.sqlite_db = dir_.File("work/t.db");
    context_.prelude = "export GREETING=hello";
    context_.rewrites = {{"localhost:8080", "localhost:1234"}};
    context_.timeout = std::chrono::seconds(10);
  }
  BlockOutcome RunOne(const std::string& markdown) {
    std::vector<std::string> errors;
    auto blocks = ExtractRunnable("doc.md", markdown, &errors);
    EXPECT_TRUE(errors.empty());
    EXPECT_EQ(blocks.size(), 1u);
    if (blocks.size() != 1) return {};
    return RunBlock(blocks[0], context_);
  }
  TempDir dir_;
  RunContext context_;
};

TEST_F(DocRunnerTest, ShellStepsAreCheckedOneByOne) {
  BlockOutcome ok = RunOne(
      "text\n```bash runnable\n"
      "printf 'no newline'\n#> no newline\n"
      "echo \"$GREETING from $PWD\" >&2\n#> hello from ...work\n"
      "echo localhost:8080\n#> localhost:1234\n"
      "echo unchecked\n```\n");
  EXPECT_TRUE(ok.ok) << ok.report;
}

TEST_F(DocRunnerTest, AWrongExampleFailsWithItsFileAndLine) {
  BlockOutcome wrong = RunOne(
      "text\n\n```sh runnable\necho '{\"accepted\":1}'\n#> {\"accepted\":1}\n"
      "echo '{\"accepted\":2,\"ids\":[2,3]}'\n#> {\"accepted\":2,\"ids\":[2]}\n```\n");
  EXPECT_FALSE(wrong.ok);
  EXPECT_EQ(wrong.report,
            "doc.md:3: sh block: the output shown at doc.md:7 differs\n"
            "  expected:\n  | {\"accepted\":2,\"ids\":[2]}\n"
            "  actual:\n  | {\"accepted\":2,\"ids\":[2,3]}\n");
}

TEST_F(DocRunnerTest, AFailingCommandFailsTheBlockEvenWithoutExpectedOutput) {
  BlockOutcome failed = RunOne("```bash runnable\necho before\nfalse | cat\necho after\n```\n");
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.report, "doc.md:1: bash block failed (exit code 1); its output:\n  | before\n");
  BlockOutcome unset = RunOne("```bash runnable\necho \"$NOT_SET_ANYWHERE\"\n```\n");
  EXPECT_FALSE(unset.ok);
  EXPECT_NE(unset.report.find("NOT_SET_ANYWHERE: unbound variable"), std::string::npos)
      << unset.report;
}

TEST_F(DocRunnerTest, HangingBlocksAreKilledWithWhatTheyStarted) {
  context_.timeout = std::chrono::milliseconds(300);
  BlockOutcome hung = RunOne("```bash runnable\nsleep 30 &\necho started\nwait\n```\n");
  EXPECT_FALSE(hung.ok);
  EXPECT_EQ(hung.report, "doc.md:1: bash block timed out after 300 ms; its output:\n  | started\n");
  EXPECT_LT(hung.elapsed, std::chrono::seconds(5));
}

TEST_F(DocRunnerTest, FileBlocksAreWrittenForLaterBlocksAndSqlRunsInSqlite) {
  EXPECT_TRUE(RunOne("```ini runnable file=made.txt\nx = localhost:8080\n```\n").ok);
  EXPECT_EQ(ReadFile(dir_.File("work/made.txt")), "x = localhost:1234\n");
  BlockOutcome made = RunOne(
      "```bash runnable\ncat made.txt\n#> x = localhost:1234\n"
      "sqlite3 t.db 'CREATE TABLE t(a, b); INSERT INTO t VALUES (1, 2), (3, NULL)'\n```\n");
  EXPECT_TRUE(made.ok) << made.report;
  BlockOutcome sql = RunOne(
      "```sql runnable\n-- a comment\nSELECT a, b FROM t ORDER BY a;\n--> 1|2\n--> 3|\n"
      "SELECT count(*)\n  FROM t;\n--> 2\nSELECT 'unchecked';\n```\n");
  EXPECT_TRUE(sql.ok) << sql.report;
  // -readonly: a recipe that writes fails.
  BlockOutcome write = RunOne("```sql runnable\nDELETE FROM t;\n```\n");
  EXPECT_FALSE(write.ok);
  EXPECT_NE(write.report.find("readonly"), std::string::npos) << write.report;
  BlockOutcome bad = RunOne("```sql runnable\nSELECT nope FROM t;\n--> 1\n```\n");
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.report.find("no such column: nope"), std::string::npos) << bad.report;
}

}  // namespace
}  // namespace cistern::testing::docs
