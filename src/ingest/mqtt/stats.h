// The MQTT listener's figures in /stats ("mqtt" object) and /metrics (cistern_mqtt_*), from
// MqttCounters (docs/mqtt.md). Thread-safety: reads atomics only.
#pragma once

#include "common/json_writer.h"
#include "common/prometheus_writer.h"
#include "ingest/mqtt/context.h"

namespace cistern::mqtt {

void WriteMqttStats(JsonWriter& w, const MqttCounters& c);
void WriteMqttMetrics(PrometheusWriter& w, const MqttCounters& c);

}  // namespace cistern::mqtt
