// SystemdNotifier: the daemon's side of systemd's notify protocol (sd_notify(3)) for a
// Type=notify unit: READY=1 once the listener is bound, STATUS= lines for `systemctl status`,
// WATCHDOG=1 pings while the collector is healthy, RELOADING=1 (with MONOTONIC_USEC) when a
// SIGHUP reload begins (READY=1 again once it is done), STOPPING=1 when shutdown begins. Every
// call is a no-op when NOTIFY_SOCKET is unset (not started by systemd), so the daemon calls
// them unconditionally.
//
// The watchdog pings only while the write path makes progress: when requests wait for the
// writer and no transaction finished since the previous tick (half of WatchdogSec), the ping
// is withheld, so a wedged writer makes systemd restart the service (the WAL keeps every
// acknowledged event). Thread-safety: call from one thread (main's io_context).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace cistern {

class SystemdNotifier {
 public:
  SystemdNotifier();

  bool enabled() const { return enabled_; }
  // Half of WatchdogSec when the unit sets it (WATCHDOG_USEC), else zero.
  std::chrono::microseconds watchdog_tick() const { return watchdog_tick_; }

  void Ready(const std::string& status);
  void Status(const std::string& status);
  void Stopping();
  // A reload begins (Type=notify-reload, systemd >= 253); call Ready() when it is done.
  void Reloading();
  // One watchdog tick: `work_waiting` = requests/jobs queued for the writer, `finished` =
  // transactions finished so far (committed or failed). Returns whether it pinged.
  bool WatchdogTick(int64_t work_waiting, int64_t finished);

 private:
  void Send(const std::string& message);
  bool enabled_ = false;
  std::chrono::microseconds watchdog_tick_{0};
  int64_t last_finished_ = -1;
};

}  // namespace cistern
