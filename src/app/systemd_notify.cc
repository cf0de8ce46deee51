#include "app/systemd_notify.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <ctime>
#include <string>

namespace cistern {

SystemdNotifier::SystemdNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  uint64_t usec = 0;
  // unset_environment=0: keep WATCHDOG_* for nothing else but us; we never exec children.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_tick_ = std::chrono::microseconds(usec / 2);
  }
}

void SystemdNotifier::Send(const std::string& message) {
  if (!enabled_) return;
  int rc = sd_notify(0, message.c_str());
  if (rc < 0) spdlog::warn("sd_notify({}) failed: {}", message.substr(0, message.find('\n')), rc);
}

void SystemdNotifier::Ready(const std::string& status) { Send("READY=1\nSTATUS=" + status); }

void SystemdNotifier::Status(const std::string& status) { Send("STATUS=" + status); }

void SystemdNotifier::Reloading() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const uint64_t usec =
      static_cast<uint64_t>(ts.tv_sec) * 1'000'000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  Send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\nSTATUS=reloading the config");
}

void SystemdNotifier::Stopping() { Send("STOPPING=1\nSTATUS=stopping"); }

bool SystemdNotifier::WatchdogTick(int64_t work_waiting, int64_t finished) {
  const bool stuck = work_waiting > 0 && finished == last_finished_;
  last_finished_ = finished;
  if (stuck) {
    spdlog::error(
        "watchdog: {} request(s) wait for the writer and no transaction finished in "
        "{} ms; withholding the systemd watchdog ping",
        work_waiting, watchdog_tick_.count() / 1000);
    return false;
  }
  Send("WATCHDOG=1");
  return true;
}

}  // namespace cistern
