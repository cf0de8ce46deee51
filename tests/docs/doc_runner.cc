#include "docs/doc_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "support/spawn.h"
#include "support/temp_dir.h"

namespace cistern::testing::docs {
namespace {

constexpr const char* kSeparator = "@@docs-step-end@@";

std::string Rewrite(std::string text, const RunContext& context) {
  for (const auto& [from, to] : context.rewrites) {
    if (from.empty()) continue;
    for (size_t pos = text.find(from); pos != std::string::npos;
         pos = text.find(from, pos + to.size())) {
      text.replace(pos, from.size(), to);
    }
  }
  return text;
}

struct Finished {
  int exit_code = -1;  // -1: timed out (killed)
  std::string output;
};

// Runs argv in its own process group in `cwd`, stdin from `stdin_path`, stdout and stderr to
// `out_path`; kills the whole group on timeout and, in any case, once the main process ended.
Finished RunInGroup(const std::vector<std::string>& args, const std::string& cwd,
                    const std::string& stdin_path, const std::string& out_path,
                    std::chrono::milliseconds timeout) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    int in = open(stdin_path.c_str(), O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || chdir(cwd.c_str()) != 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    close_range(3, ~0U, 0);
    execv(argv[0], argv.data());
    _exit(127);
  }
  Finished f;
  if (pid < 0) {
    f.output = "fork failed";
    return f;
  }
  setpgid(pid, pid);  // also here, so killpg works even before the child ran
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      f.exit_code = DecodeWaitStatus(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      killpg(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  killpg(pid, SIGKILL);  // anything the block left running in the background
  f.output = ReadFile(out_path);
  return f;
}

std::string Indented(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "  | " + l + "\n";
  return out.empty() ? "  (nothing)\n" : out;
}

}  // namespace

BlockOutcome RunBlock(const DocBlock& block, const RunContext& context) {
  BlockOutcome outcome;
  auto start = std::chrono::steady_clock::now();
  std::string body = Rewrite(block.body, context);
  if (!block.write_file.empty()) {
    std::ofstream(context.work_dir + "/" + block.write_file, std::ios::binary) << body;
    outcome.ok = true;
    return outcome;
  }
  std::string_view marker = OutputMarker(block.language);
  bool sql = block.language == "sql";
  std::vector<DocStep> steps = SplitSteps(body, marker, block.line + 1);
  std::string script;
  if (!sql) script = context.prelude + "\nset -euo pipefail\n";
  std::vector<const DocStep*> checked;
  for (const DocStep& step : steps) {
    script += step.code + "\n";
    if (!step.checked) continue;
    checked.push_back(&step);
    script += sql ? std::string(".print ") + kSeparator + "\n"
                  : std::string("printf '\\n%s\\n' '") + kSeparator + "'\n";
  }
  std::string tag = context.scratch_dir + "/block-" + std::to_string(block.line);
  std::string script_path = tag + (sql ? ".sql" : ".sh");
  std::ofstream(script_path, std::ios::binary) << script;
  Finished run = sql ? RunInGroup({"/usr/bin/sqlite3", "-batch", "-bail", "-readonly", "-init",
                                   "/dev/null", context.sqlite_db},
                                  context.work_dir, script_path, tag + ".out", context.timeout)
                     : RunInGroup({"/bin/bash", script_path}, context.work_dir, "/dev/null",
                                  tag + ".out", context.timeout);
  outcome.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);

  // The output between separators belongs to the checked steps, in order.
  std::vector<std::string> segments(1);
  std::istringstream lines(run.output);
  for (std::string line; std::getline(lines, line);) {
    if (line == kSeparator) {
      segments.emplace_back();
    } else {
      segments.back() += line + "\n";
    }
  }
  std::string what = block.Where() + ": " + block.language + " block";
  if (run.exit_code != 0) {
    outcome.report =
        what +
        (run.exit_code == -1 ? " timed out after " + std::to_string(context.timeout.count()) + " ms"
                             : " failed (exit code " + std::to_string(run.exit_code) + ")") +
        "; its output:\n" + Indented(NormalizedLines(run.output));
    return outcome;
  }
  for (size_t i = 0; i < checked.size(); ++i) {
    const std::string& actual = i < segments.size() ? segments[i] : std::string();
    if (MatchOutput(checked[i]->expected, actual)) continue;
    outcome.report += what + ": the output shown at " + block.file + ":" +
                      std::to_string(checked[i]->expected_line) + " differs\n  expected:\n" +
                      Indented(checked[i]->expected) + "  actual:\n" +
                      Indented(NormalizedLines(actual));
  }
  outcome.ok = outcome.report.empty();
  return outcome;
}

}  // namespace cistern::testing::docs
