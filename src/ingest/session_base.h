// SessionBase: what the server and the SessionTracker need of any connection, HTTP (BasicSession,
// ingest/session.h) or MQTT (ingest/mqtt/session.h). Without Boost, so the tracker builds
// without Asio or Beast.
// Thread-safety: the deadline and idle figures are atomics; see each connection for the rest.
#pragma once

#include <atomic>
#include <cstdint>

namespace cistern {

// What the server and the tracker need of any session, plain or TLS.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Graceful stop: an idle connection (waiting for a request) closes now; one with a request
  // in progress finishes it, answers with Connection: close, then closes.
  virtual void Shutdown() = 0;
  // Closes the connection if its deadline has passed (checked again on the strand).
  virtual void Expire() = 0;
  // Closes the connection if it is still waiting for a request (checked on the strand): how
  // the server makes room for a new client when --max-connections is reached.
  virtual void Evict() = 0;
  // Milliseconds on the steady clock after which the session is cut off; 0 = no deadline.
  int64_t deadline_ms() const { return deadline_ms_.load(std::memory_order_relaxed); }
  // Steady-clock ms since which the connection has been waiting for a request (keep-alive
  // idle, or a client still sending its header); 0 while a request is being handled.
  int64_t idle_since_ms() const { return idle_since_ms_.load(std::memory_order_relaxed); }

  static int64_t NowMs();

 protected:
  std::atomic<int64_t> deadline_ms_{0};
  std::atomic<int64_t> idle_since_ms_{0};
};

}  // namespace cistern
