// The sink registry: --sink name -> factory, filled explicitly here (no self-registering
// statics), and the --flaky-every wrapper. Called once by main.
#pragma once

#include <memory>
#include <string>

#include "app/config.h"
#include "common/status.h"
#include "sinks/api/sink.h"

namespace cistern {

// Builds the configured sink. `node_id` names this collector (MQTT client id). Errors:
// InvalidArgument for unusable settings (bad URL), whatever the sink's factory returns.
Result<std::unique_ptr<Sink>> MakeSink(const SinkConfig& config, const std::string& node_id);

}  // namespace cistern
