#include "ingest/mqtt/stats.h"

#include <utility>

namespace cistern::mqtt {
namespace {

struct Figure {
  const char* key;
  const std::atomic<int64_t>* value;
  const char* help;
};

std::vector<Figure> Figures(const MqttCounters& c) {
  return {
      {"connects", &c.connects, "MQTT connections accepted (CONNACK success)"},
      {"refused_auth", &c.refused_auth, "MQTT CONNECTs refused: not authorized"},
      {"messages", &c.messages, "MQTT PUBLISH packets received (QoS 2 resends included)"},
      {"events", &c.events, "Events stored from MQTT PUBLISH packets"},
      {"acks", &c.acks, "PUBACK, PUBREC and PUBCOMP sent, each after its commit"},
      {"rejected", &c.rejected, "MQTT 5 PUBLISHes answered with a failure reason (0x99)"},
      {"dead_letters", &c.dead_letters, "MQTT messages kept as dead letters (not JSON, 3.1.1)"},
      {"duplicates", &c.duplicates, "QoS 2 PUBLISHes sent again before PUBREL, not stored again"},
      {"wills", &c.wills, "Will messages stored as events"},
      {"protocol_errors", &c.protocol_errors, "MQTT connections closed for a bad packet"},
      {"store_retries", &c.store_retries, "Appends retried after the store refused (no ack)"},
  };
}

}  // namespace

void WriteMqttStats(JsonWriter& w, const MqttCounters& c) {
  w.BeginObject();
  w.Key("connections");
  w.Int(c.connections.load(std::memory_order_relaxed));
  for (const Figure& f : Figures(c)) {
    w.Key(f.key);
    w.Int(f.value->load(std::memory_order_relaxed));
  }
  w.EndObject();
}

void WriteMqttMetrics(PrometheusWriter& w, const MqttCounters& c) {
  w.Gauge("cistern_mqtt_connections", "MQTT connections open now",
          static_cast<double>(c.connections.load(std::memory_order_relaxed)));
  for (const Figure& f : Figures(c)) {
    w.Counter(std::string("cistern_mqtt_") + f.key + "_total", f.help,
              f.value->load(std::memory_order_relaxed));
  }
}

}  // namespace cistern::mqtt
