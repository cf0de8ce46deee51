#include "support/mosquitto_broker.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/spawn.h"

namespace cistern::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kMosquitto = "/usr/sbin/mosquitto";

// A port the kernel just handed out on 127.0.0.1 (free now; a tiny race with other
// processes is possible, so the caller retries on a failed start).
uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

bool PortAccepts(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// Reaps `pid` if it exited within `timeout`.
bool WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || r < 0) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });  // never cleaned up: test process
}

std::atomic<int> g_subscriber_counter{0};

}  // namespace

MosquittoBroker::MosquittoBroker() {
  for (int attempt = 0; attempt < 3 && !started(); ++attempt) {
    port_ = FreePort();
    if (port_ != 0) Launch();
  }
}

MosquittoBroker::~MosquittoBroker() { Stop(); }

std::string MosquittoBroker::url() const { return "mqtt://127.0.0.1:" + std::to_string(port_); }

bool MosquittoBroker::Launch() {
  const std::string conf = dir_.File("mosquitto.conf");
  {
    std::ofstream f(conf, std::ios::trunc);
    f << "listener " << port_ << " 127.0.0.1\n"
      << "allow_anonymous true\n"
      << "persistence false\n"
      << "max_queued_messages 0\n"
      << "max_inflight_messages 0\n"
      << "log_dest stderr\n"
      << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
  }
  const std::string log = dir_.File("mosquitto.log");
  pid_t pid = SpawnWithLog({kMosquitto, "-c", conf}, log);
  if (pid < 0) return false;
  pid_ = pid;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: e.g. the port was taken
      pid_ = -1;
      return false;
    }
    if (PortAccepts(port_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Stop();
  return false;
}

void MosquittoBroker::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGCONT);
  kill(pid_, SIGTERM);
  if (!WaitExit(pid_, std::chrono::seconds(5))) {
    kill(pid_, SIGKILL);
    WaitExit(pid_, std::chrono::seconds(10));
  }
  pid_ = -1;
}

bool MosquittoBroker::Start() {
  if (started()) return true;
  if (port_ == 0) return false;
  return Launch();
}

std::string MosquittoBroker::Log() const { return ReadFile(dir_.File("mosquitto.log")); }

MqttTestSubscriber::MqttTestSubscriber(uint16_t port, std::string filter)
    : filter_(std::move(filter)) {
  InitLibraryOnce();
  std::string id = "cistern-test-sub-" + std::to_string(getpid()) + "-" +
                   std::to_string(g_subscriber_counter.fetch_add(1));
  mosq_ = mosquitto_new(id.c_str(), /*clean_session=*/true, this);
  if (!mosq_) return;
  mosquitto_connect_callback_set(mosq_, &MqttTestSubscriber::OnConnect);
  mosquitto_disconnect_callback_set(mosq_, &MqttTestSubscriber::OnDisconnect);
  mosquitto_subscribe_callback_set(mosq_, &MqttTestSubscriber::OnSubscribe);
  mosquitto_message_callback_set(mosq_, &MqttTestSubscriber::OnMessage);
  mosquitto_reconnect_delay_set(mosq_, 1, 1, false);  // quick return after a broker restart
  mosquitto_connect_async(mosq_, "127.0.0.1", port, 60);
  // mosquitto_new() already set SIGPIPE to SIG_IGN process-wide (libmosquitto does), so a
  // write to a broker that just died fails with EPIPE instead of killing the test binary.
  mosquitto_loop_start(mosq_);
}

MqttTestSubscriber::~MqttTestSubscriber() {
  if (!mosq_) return;
  mosquitto_disconnect(mosq_);  // makes the network thread's loop return
  mosquitto_loop_stop(mosq_, false);
  mosquitto_destroy(mosq_);
}

void MqttTestSubscriber::OnConnect(mosquitto* mosq, void* self, int rc) {
  auto* sub = static_cast<MqttTestSubscriber*>(self);
  if (rc == 0) mosquitto_subscribe(mosq, nullptr, sub->filter_.c_str(), 1);
}

void MqttTestSubscriber::OnDisconnect(mosquitto*, void* self, int) {
  auto* sub = static_cast<MqttTestSubscriber*>(self);
  std::lock_guard<std::mutex> lock(sub->mu_);
  sub->subscribed_ = false;
}

void MqttTestSubscriber::OnSubscribe(mosquitto*, void* self, int, int, const int*) {
  auto* sub = static_cast<MqttTestSubscriber*>(self);
  std::lock_guard<std::mutex> lock(sub->mu_);
  sub->subscribed_ = true;
  sub->cv_.notify_all();
}

void MqttTestSubscriber::OnMessage(mosquitto*, void* self, const mosquitto_message* message) {
  auto* sub = static_cast<MqttTestSubscriber*>(self);
  Message m{message->topic ? message->topic : "",
            std::string(static_cast<const char*>(message->payload),
                        static_cast<size_t>(message->payloadlen))};
  std::lock_guard<std::mutex> lock(sub->mu_);
  sub->messages_.push_back(std::move(m));
  sub->cv_.notify_all();
}

bool MqttTestSubscriber::WaitSubscribed(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return subscribed_; });
}

bool MqttTestSubscriber::WaitForCount(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return messages_.size() >= n; });
}

size_t MqttTestSubscriber::Count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_.size();
}

std::vector<MqttTestSubscriber::Message> MqttTestSubscriber::Messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

void MqttTestSubscriber::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  messages_.clear();
}

}  // namespace cistern::testing
