#include "support/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "support/temp_dir.h"

namespace cistern::testing {

namespace {

// fork + exec with stdin from `stdin_fd` (-1: /dev/null), stdout to `stdout_fd` (-1: the log)
// and stderr to the log; see SpawnWithLog for the rest of the child's set-up.
pid_t Spawn(const std::vector<std::string>& args, int stdin_fd, int stdout_fd,
            const std::string& log_path) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid != 0) return pid;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  if (stdin_fd < 0) stdin_fd = open("/dev/null", O_RDONLY);
  if (stdin_fd >= 0) dup2(stdin_fd, 0);
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (stdout_fd >= 0) {
    dup2(stdout_fd, 1);
  } else if (log >= 0) {
    dup2(log, 1);
  }
  if (log >= 0) dup2(log, 2);
  close_range(3, ~0U, 0);
  execv(argv[0], argv.data());
  _exit(127);
}

}  // namespace

pid_t SpawnWithLog(const std::vector<std::string>& args, const std::string& log_path) {
  return Spawn(args, -1, -1, log_path);
}

pid_t SpawnWithFds(const std::vector<std::string>& args, int stdin_fd, int stdout_fd,
                   const std::string& log_path) {
  return Spawn(args, stdin_fd, stdout_fd, log_path);
}

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

RunResult RunProgram(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  char templ[] = "/tmp/cistern-run-XXXXXX";
  int fd = mkstemp(templ);
  if (fd >= 0) close(fd);
  pid_t pid = SpawnWithLog(argv, templ);
  RunResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      result.exit_code = DecodeWaitStatus(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      result.exit_code = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  result.output = ReadFile(templ);
  unlink(templ);
  return result;
}

}  // namespace cistern::testing
