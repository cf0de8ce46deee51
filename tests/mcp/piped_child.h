// PipedChild: a child process whose stdin and stdout are pipes held by the test (stderr goes
// to a log file), for driving a stdio protocol line by line. SIGKILLed by the destructor if
// still running, so a failing test leaks nothing. Not thread-safe: one test thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace cistern::testing {

class PipedChild {
 public:
  // Starts argv (argv[0] a path) with stderr appended to `stderr_log`. Check pid() > 0.
  PipedChild(const std::vector<std::string>& argv, const std::string& stderr_log);
  ~PipedChild();
  PipedChild(const PipedChild&) = delete;
  PipedChild& operator=(const PipedChild&) = delete;

  pid_t pid() const { return pid_; }
  // Writes `line` plus '\n' to the child's stdin. False when the pipe is closed.
  bool WriteLine(const std::string& line);
  // The next stdout line (without '\n'), or nullopt at EOF or after `timeout`.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout);
  // Closes the child's stdin (EOF).
  void CloseStdin();
  // Waits for exit: the exit code, 128+signal, or -1 (killed after `timeout`).
  int Wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int in_fd_ = -1;   // child's stdin
  int out_fd_ = -1;  // child's stdout
  std::string buffered_;
};

}  // namespace cistern::testing
