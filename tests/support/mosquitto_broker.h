// MosquittoBroker: a real `mosquitto` on a free loopback port, with its config and log in a
// temp dir, stopped by PID (pass or fail). MqttTestSubscriber: a libmosquitto client that
// collects what a topic filter receives, for asserting on delivery.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "support/temp_dir.h"

struct mosquitto;
struct mosquitto_message;

namespace cistern::testing {

class MosquittoBroker {
 public:
  // Starts /usr/sbin/mosquitto (listener 127.0.0.1:<free port>, anonymous, no persistence,
  // no limit on queued messages so a slow test subscriber loses nothing). Check started().
  MosquittoBroker();
  // Stop().
  ~MosquittoBroker();
  MosquittoBroker(const MosquittoBroker&) = delete;
  MosquittoBroker& operator=(const MosquittoBroker&) = delete;

  // True while the broker runs and accepted a TCP connection.
  bool started() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // "mqtt://127.0.0.1:<port>"
  std::string url() const;

  // SIGCONT (in case a test paused it), SIGTERM, up to 5 s for it to exit, then SIGKILL.
  // No-op when not running.
  void Stop();
  // Starts again on the same port (after Stop(): an outage). Returns started().
  bool Start();
  // Everything the broker logged so far (all of its runs).
  std::string Log() const;

 private:
  // Spawns mosquitto on port_ and waits up to 10 s until the port accepts.
  bool Launch();

  TempDir dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// Subscribes to `filter` with QoS 1 on 127.0.0.1:port and records every message. Runs
// libmosquitto's own network thread (mosquitto_loop_start), which reconnects and subscribes
// again after a broker restart. Thread-safe: the accessors may be called from any thread.
class MqttTestSubscriber {
 public:
  struct Message {
    std::string topic;
    std::string payload;
  };

  MqttTestSubscriber(uint16_t port, std::string filter);
  ~MqttTestSubscriber();
  MqttTestSubscriber(const MqttTestSubscriber&) = delete;
  MqttTestSubscriber& operator=(const MqttTestSubscriber&) = delete;

  // True once the broker confirmed the subscription (SUBACK) on the current connection,
  // waiting up to `timeout`.
  bool WaitSubscribed(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True once at least n messages arrived, waiting up to `timeout`.
  bool WaitForCount(size_t n, std::chrono::milliseconds timeout);
  size_t Count() const;
  std::vector<Message> Messages() const;
  void Clear();

 private:
  static void OnConnect(mosquitto* mosq, void* self, int rc);
  static void OnDisconnect(mosquitto* mosq, void* self, int rc);
  static void OnSubscribe(mosquitto* mosq, void* self, int mid, int qos_count,
                          const int* granted_qos);
  static void OnMessage(mosquitto* mosq, void* self, const mosquitto_message* message);

  const std::string filter_;
  mosquitto* mosq_ = nullptr;  // constant after construction; used by the network thread

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool subscribed_ = false;        // guarded by mu_; false again after a disconnect
  std::vector<Message> messages_;  // guarded by mu_
};

}  // namespace cistern::testing
