// MQTT load: cistern-loadgen --mqtt mqtt://HOST:PORT (docs/mqtt.md, benchmark). `connections`
// MQTT 3.1.1 publishers on one Asio thread, each keeping `inflight` QoS 1 or 2 PUBLISHes in
// flight (a new one goes out as soon as one is acknowledged: PUBACK for QoS 1, PUBCOMP for
// QoS 2), for `duration`. Payloads are realistic ~150-byte JSON events with a per-connection
// sequence number (device id "mqtt-lg-<connection>", payload.seq).
// The report on `out`: messages acknowledged, msgs/s, ack latency p50/p99/max (PUBLISH
// written -> PUBACK read), and with `verify_db` (a Cistern database) a check that every
// acknowledged (device, seq) is a row of `events`; last line "OK: ..." or "FAIL: ...".
// Works against any MQTT server (e.g. mosquitto for comparison) without verify_db.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

namespace cistern::loadgen {

struct MqttLoadOptions {
  std::string target;  // mqtt://host:port
  int connections = 64;
  int inflight = 20;
  int qos = 1;  // 1 or 2
  std::chrono::milliseconds duration{5'000};
  std::string password;   // CONNECT password (Cistern's token), "" = none
  std::string verify_db;  // "" = skip
};

// Returns 0 when every check passed, 1 when an acknowledged message is missing or a
// connection failed, 2 for unusable options (one line on `err`).
int RunMqttLoad(const MqttLoadOptions& options, std::ostream& out, std::ostream& err);

}  // namespace cistern::loadgen
