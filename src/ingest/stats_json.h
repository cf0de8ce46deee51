// GET /stats: the collector's figures as one JSON object {store, http, mqtt?, uploader,
// config} (docs/api.md). /metrics renders the same figures for Prometheus (ingest/metrics.h).
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

// `mqtt`: the MQTT listener's figures, when it runs; `uploader` may be null.
std::string RenderStats(const StoreStats& store, const HttpCounters& http,
                        const mqtt::MqttCounters* mqtt, const ComponentStatus* uploader,
                        const ConfigReloads& reloads);

}  // namespace cistern
