// CisternProcess: the real `cistern` binary as a child process on a free loopback port
// (--addr 127.0.0.1:0, the port read back from --ready-file). The test stops it by PID; the
// destructor SIGKILLs it if the test did not, so a failing test never leaks a server.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "support/spawn.h"

namespace cistern::testing {

class CisternProcess {
 public:
  // Starts `cistern --db db_path --addr 127.0.0.1:0 --ready-file ... <extra_args>` with its
  // stderr/stdout in `<dir>/cistern-<n>.log`; an "--addr" in extra_args replaces the
  // default address. Check started() / port().
  CisternProcess(const std::string& dir, const std::string& db_path,
                 std::vector<std::string> extra_args = {});
  ~CisternProcess();
  CisternProcess(const CisternProcess&) = delete;
  CisternProcess& operator=(const CisternProcess&) = delete;

  // True once the server wrote its ready file (waits up to 15 s); false if it exited first.
  bool started() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  // SIGTERM, then wait up to `timeout` for a clean exit (SIGKILL after). Returns the exit
  // code, or 128+signal when killed.
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Sends `sig` (e.g. SIGHUP: reload the config) without waiting.
  void Signal(int sig);
  // kill -9: no shutdown code runs at all.
  void Kill9();
  // Everything the process logged so far.
  std::string Log() const;

 private:
  int Wait(std::chrono::milliseconds timeout);
  std::string log_path_;
  std::string ready_path_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// Runs `cistern <args>` to completion (killed after `timeout`).
RunResult RunCistern(const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout = std::chrono::seconds(15));

}  // namespace cistern::testing
