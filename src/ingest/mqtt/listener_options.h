// The MQTT listener's options (docs/mqtt.md), and the part of them a config reload may change
// (docs/configuration.md "Reload"). Plain structs without Boost, so the daemon's Config
// (app/config.h) can hold them; the listener is ingest/mqtt/listener.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "event/parse_limits.h"

namespace cistern::mqtt {

struct ListenerOptions {
  std::string host;  // plain MQTT (--mqtt-listen); port 0 = a free port
  uint16_t port = 0;
  bool plain = false;
  std::string tls_host;  // MQTT over TLS (--mqtts-listen)
  uint16_t tls_port = 0;
  bool tls = false;
  std::string tls_cert, tls_key;
  std::string topic_template = "devices/<device_id>/<kind>";
  std::vector<std::string> tokens;         // at start: CONNECT password must be one (LiveOptions)
  uint32_t maximum_packet_size = 1 << 20;  // --max-body-bytes
  ParseLimits parse;                       // at start (LiveOptions)
  std::chrono::milliseconds connect_timeout{30'000};  // accept -> CONNECT received
  std::chrono::milliseconds write_timeout{30'000};
  uint16_t receive_maximum = 256;  // in-flight PUBLISHes per connection (5.0: advertised)
  size_t max_connections = 1024;   // shared with HTTP (one SessionTracker)
};

// What a config reload may change while the listener runs: the ingest tokens (a CONNECT
// password must be one; empty = open) and the payload parse limits.
struct LiveOptions {
  std::vector<std::string> tokens;
  ParseLimits parse;
};

}  // namespace cistern::mqtt
