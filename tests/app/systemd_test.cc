// The daemon's side of systemd's notify protocol, tested without systemd: the test binds the
// datagram socket systemd would (NOTIFY_SOCKET), sets WATCHDOG_USEC like a unit with
// WatchdogSec, starts the real collector and reads what it sends: READY=1 once listening,
// WATCHDOG=1 pings at half the interval, STOPPING=1 on SIGTERM.
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

#include "support/cistern_process.h"
#include "support/temp_dir.h"

namespace cistern::testing {
namespace {

class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    bound_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  // The next datagram, or "" after `timeout`.
  std::string Receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return "";
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
  // Reads datagrams until one contains `what` (true) or `timeout` passes (false); every
  // datagram read is appended to *seen.
  bool WaitFor(const std::string& what, std::chrono::milliseconds timeout,
               std::vector<std::string>* seen) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      std::string m = Receive(left);
      if (m.empty()) continue;
      seen->push_back(m);
      if (m.find(what) != std::string::npos) return true;
    }
    return false;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "[" + s + "] ";
  return out;
}

TEST(SystemdNotify, ReadyWatchdogAndStoppingReachTheNotifySocket) {
  TempDir dir;
  NotifySocket sock(dir.File("notify.sock"));
  ASSERT_TRUE(sock.bound());
  setenv("NOTIFY_SOCKET", dir.File("notify.sock").c_str(), 1);
  setenv("WATCHDOG_USEC", "200000", 1);  // WatchdogSec=200ms: a ping every ~100 ms
  CisternProcess server(dir.path(), dir.File("events.db"), {"--sink", "none"});
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  ASSERT_TRUE(server.started()) << server.Log();

  std::vector<std::string> seen;
  ASSERT_TRUE(sock.WaitFor("READY=1", std::chrono::seconds(5), &seen)) << Join(seen);
  EXPECT_NE(seen.back().find("STATUS=listening on 127.0.0.1:" + std::to_string(server.port())),
            std::string::npos)
      << seen.back();
  // READY comes once, before any ping; then pings keep coming.
  int pings = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (std::chrono::steady_clock::now() < until) {
    std::string m = sock.Receive(std::chrono::milliseconds(300));
    EXPECT_EQ(m.find("READY=1"), std::string::npos) << m;
    if (m.find("WATCHDOG=1") != std::string::npos) ++pings;
  }
  EXPECT_GE(pings, 4) << "expected a ping about every 100 ms for 1 s";

  EXPECT_EQ(kill(server.pid(), SIGTERM), 0);
  seen.clear();
  EXPECT_TRUE(sock.WaitFor("STOPPING=1", std::chrono::seconds(5), &seen)) << Join(seen);
  EXPECT_EQ(server.Stop(), 0) << server.Log();
}

TEST(SystemdNotify, ReloadSaysReloadingThenReady) {
  TempDir dir;
  NotifySocket sock(dir.File("notify.sock"));
  ASSERT_TRUE(sock.bound());
  setenv("NOTIFY_SOCKET", dir.File("notify.sock").c_str(), 1);
  CisternProcess server(dir.path(), dir.File("events.db"), {"--sink", "none"});
  unsetenv("NOTIFY_SOCKET");
  ASSERT_TRUE(server.started()) << server.Log();
  std::vector<std::string> seen;
  ASSERT_TRUE(sock.WaitFor("READY=1", std::chrono::seconds(5), &seen)) << Join(seen);

  // The SIGHUP handler is armed before READY=1 is sent.
  server.Signal(SIGHUP);
  seen.clear();
  ASSERT_TRUE(sock.WaitFor("RELOADING=1", std::chrono::seconds(5), &seen)) << Join(seen);
  EXPECT_NE(seen.back().find("MONOTONIC_USEC="), std::string::npos) << seen.back();
  EXPECT_TRUE(sock.WaitFor("READY=1", std::chrono::seconds(5), &seen)) << Join(seen);
  EXPECT_EQ(server.Stop(), 0) << server.Log();
}

TEST(SystemdNotify, WithoutNotifySocketNothingIsSentAndTheCollectorRuns) {
  TempDir dir;
  unsetenv("NOTIFY_SOCKET");
  CisternProcess server(dir.path(), dir.File("events.db"), {"--sink", "none"});
  ASSERT_TRUE(server.started()) << server.Log();
  EXPECT_EQ(server.Log().find("sd_notify"), std::string::npos) << server.Log();
  EXPECT_EQ(server.Stop(), 0) << server.Log();
}

}  // namespace
}  // namespace cistern::testing
