#include "support/cistern_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/spawn.h"
#include "support/temp_dir.h"

namespace cistern::testing {
namespace {

std::atomic<int> g_counter{0};

}  // namespace

CisternProcess::CisternProcess(const std::string& dir, const std::string& db_path,
                               std::vector<std::string> extra_args) {
  int n = g_counter.fetch_add(1);
  log_path_ = dir + "/cistern-" + std::to_string(n) + ".log";
  ready_path_ = dir + "/ready-" + std::to_string(n);
  unlink(ready_path_.c_str());
  std::vector<std::string> args = {CISTERN_BINARY, "--db", db_path, "--ready-file", ready_path_};
  // An --addr among the extra arguments (a restart on the same port) replaces the default.
  if (std::find(extra_args.begin(), extra_args.end(), "--addr") == extra_args.end()) {
    args.insert(args.end(), {"--addr", "127.0.0.1:0"});
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = SpawnWithLog(args, log_path_);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string ready = ReadFile(ready_path_);
    if (auto colon = ready.rfind(':'); colon != std::string::npos && ready.back() == '\n') {
      port_ = static_cast<uint16_t>(std::stoi(ready.substr(colon + 1)));
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {  // exited before becoming ready
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

CisternProcess::~CisternProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(10));
  }
}

int CisternProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (pid_ > 0) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return DecodeWaitStatus(status);
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

int CisternProcess::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int code = Wait(timeout);
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(10));
    return -1;
  }
  return code;
}

void CisternProcess::Signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

void CisternProcess::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  Wait(std::chrono::seconds(10));
}

std::string CisternProcess::Log() const { return ReadFile(log_path_); }

RunResult RunCistern(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  std::vector<std::string> full = {CISTERN_BINARY};
  full.insert(full.end(), args.begin(), args.end());
  return RunProgram(full, timeout);
}

}  // namespace cistern::testing
