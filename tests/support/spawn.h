// Starting real server processes for tests (cistern, nats-server, mosquitto): one place for
// the fork/exec details every such helper needs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace cistern::testing {

// fork + execv(argv[0], argv) with stdout and stderr appended to `log_path`, stdin from
// /dev/null, a clean signal mask and default SIGPIPE (an ignored disposition or a blocked
// signal would survive exec), and no other inherited file descriptor: a test's listening
// socket leaked into a child keeps that port bound after the test closed it.
// Returns the child's pid, or -1 when fork failed (exec failure: the child exits 127).
pid_t SpawnWithLog(const std::vector<std::string>& argv, const std::string& log_path);

// The same, with the child's stdin and stdout on the given descriptors (the child's copies;
// the parent keeps and closes its own) and only stderr in `log_path`.
pid_t SpawnWithFds(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd,
                   const std::string& log_path);

struct RunResult {
  int exit_code = -1;  // 128+signal if killed, -1 if it had to be killed on timeout
  std::string output;  // stdout + stderr
};

// Runs argv (argv[0] a path) to completion, SIGKILLed after `timeout`.
RunResult RunProgram(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// waitpid status -> exit code, or 128 + signal.
int DecodeWaitStatus(int status);

}  // namespace cistern::testing
