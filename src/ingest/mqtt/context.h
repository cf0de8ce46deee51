// MqttContext: what every MQTT connection of the listener shares (docs/mqtt.md): options, the
// store, the topic map, counters, and the registry of connected client ids (a second CONNECT
// with a connected client's id takes its session over, MQTT-3.1.4-3).
// Held by shared_ptr by the listener and every session, so a session that outlives the
// listener (its last store callback) still finds it. Thread-safe.
// A config reload replaces the LiveOptions (SetLive, docs/configuration.md "Reload"): a
// CONNECT is checked against the tokens in effect when it arrives, a PUBLISH parsed with the
// limits in effect when it arrives; a connection already accepted stays accepted.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "event/parse.h"
#include "ingest/mqtt/decoder.h"
#include "ingest/mqtt/listener_options.h"
#include "ingest/mqtt/topic_map.h"
#include "store/store.h"

namespace cistern {
class SessionTracker;
}

namespace cistern::mqtt {

// /stats and /metrics figures. Atomics: any thread.
struct MqttCounters {
  std::atomic<int64_t> connections{0};      // open now
  std::atomic<int64_t> connects{0};         // CONNACK success sent
  std::atomic<int64_t> refused_auth{0};     // CONNACK not authorized
  std::atomic<int64_t> messages{0};         // PUBLISH received (duplicates included)
  std::atomic<int64_t> events{0};           // events stored from them
  std::atomic<int64_t> acks{0};             // PUBACK + PUBREC + PUBCOMP sent
  std::atomic<int64_t> rejected{0};         // 5.0 PUBACK/PUBREC with a failure reason
  std::atomic<int64_t> dead_letters{0};     // messages kept as dead letters
  std::atomic<int64_t> duplicates{0};       // QoS 2 PUBLISH sent again, not stored again
  std::atomic<int64_t> wills{0};            // Will messages stored
  std::atomic<int64_t> protocol_errors{0};  // connections closed for a bad packet
  std::atomic<int64_t> store_retries{0};    // appends retried after the store refused
};

class MqttSessionBase;

class MqttContext {
 public:
  MqttContext(std::shared_ptr<Store> store, ListenerOptions options, TopicMap topics,
              SessionTracker& tracker);

  Store& store() { return *store_; }
  // The start-up options; tokens and parse limits: see live().
  const ListenerOptions& options() const { return options_; }
  // The tokens and parse limits in effect (one snapshot: read it once per packet).
  std::shared_ptr<const LiveOptions> live() const { return live_.load(); }
  void SetLive(LiveOptions live) {
    live_.store(std::make_shared<const LiveOptions>(std::move(live)));
  }
  const TopicMap& topics() const { return topics_; }
  const DecoderOptions& decoder() const { return decoder_; }
  MqttCounters& counters() { return counters_; }
  SessionTracker& tracker() { return tracker_; }

  // `session` is now the connection of `client_id`: a previous one is told to go (TakeOver),
  // and `open` (which submits the store's OpenMqttSession) runs under the registry lock, so
  // the store sees opens and closes of one client id in the order of the registry.
  void Claim(const std::string& client_id, const std::shared_ptr<MqttSessionBase>& session,
             const std::function<void()>& open);
  // `session` ended: when it still owns `client_id`, `close` runs (under the lock) and the id
  // is released; a session that was taken over does nothing.
  void Release(const std::string& client_id, const MqttSessionBase* session,
               const std::function<void()>& close);

 private:
  const std::shared_ptr<Store> store_;
  const ListenerOptions options_;
  const TopicMap topics_;
  DecoderOptions decoder_;
  std::atomic<std::shared_ptr<const LiveOptions>> live_;
  MqttCounters counters_;
  SessionTracker& tracker_;
  std::mutex mu_;
  std::unordered_map<std::string, std::weak_ptr<MqttSessionBase>> owners_;  // guarded by mu_
};

}  // namespace cistern::mqtt
