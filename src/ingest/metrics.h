// GET /metrics: the collector's figures in the Prometheus text exposition format (0.0.4).
// Families (all prefixed cistern_): counters of events written/uploaded/dropped/pruned,
// requests rejected by reason, HTTP responses by code class, commits, commit failures and
// conflicts, checkpoints; gauges of the backlog, its limit, database bytes, the write queue
// and WAL; histograms of commit, checkpoint and POST /events latency (seconds); and the
// uploader's own families (runs, failures, health, oldest pending age) when one is running;
// config reloads (docs/configuration.md "Reload").
// Thread-safety: pure function of its arguments (which are themselves thread-safe to read).
#pragma once

#include <string>

#include "common/component_status.h"
#include "common/config_reloads.h"
#include "ingest/http_counters.h"
#include "store/store.h"

namespace cistern {

namespace mqtt {
struct MqttCounters;
}

// `mqtt`: the MQTT listener's families (cistern_mqtt_*), when it runs.
std::string RenderMetrics(const StoreStats& store, const HttpCounters& http,
                          const ComponentStatus* uploader, bool ready, const ConfigReloads& reloads,
                          const mqtt::MqttCounters* mqtt = nullptr);

}  // namespace cistern
