// MqttSink: publishes every event of a batch to an MQTT broker with QoS 1 (libmosquitto) and
// acknowledges the batch only when the broker sent a PUBACK for every one of them.
//
// Delivery contract: at-least-once. A batch that failed (Retry) is published again in full by
// the uploader, and a crash between ship and checkpoint re-ships it too, so subscribers may
// see an event twice. MQTT has no de-duplication (QoS 2 is exactly-once per session only, not
// across re-ships), so consumers de-duplicate on ("node_id", "id") inside the JSON payload.
//
// Each event is one message: payload = AppendEventJson (the object the webhook sends), topic =
// FillTemplate(topic, ...), where '/', '+' and '#' inside substituted values become '_'; so
// does any character MQTT forbids in a topic (control characters including C1, noncharacters
// such as U+FFFF, invalid UTF-8), so that no device id can make a batch unpublishable. The
// payload always carries the original values.
//
// The sink starts without a broker: MakeMqttSink never connects. Send connects lazily (and
// again after any failure), so the collector starts and buffers during an outage. The TCP
// connect and CONNACK wait count against Send's timeout; a host name's DNS lookup does not
// (getaddrinfo blocks), so prefer an IP address in the URL.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "sinks/api/sink.h"

namespace cistern {

struct MqttOptions {
  // mqtt://host[:port] (port defaults to 1883; tcp:// is accepted as a synonym; IPv6 as
  // [::1]). No TLS (mqtts://) and no credentials in the URL.
  std::string url = "mqtt://127.0.0.1:1883";
  // <device_id>, <kind> and <node_id> are substituted per event; the literal parts must form
  // a valid publish topic (no '+' or '#').
  std::string topic = "cistern/<device_id>/<kind>";
  // 1 or 2; 0 is rejected because it has no acknowledgement to wait for.
  int qos = 1;
  // Empty: "cistern-<node_id>" (the node_id of the first batch sent).
  std::string client_id;
  // Bounds one whole Send: connecting, publishing and waiting for every acknowledgement.
  std::chrono::milliseconds timeout{10000};
  // QoS 1/2 messages libmosquitto keeps in flight at once; more are queued client-side and
  // released as PUBACKs arrive. Large enough that a whole default batch (500) is in flight.
  int max_inflight = 1000;
};

struct MqttAddress {
  std::string host;  // without brackets for IPv6
  int port = 1883;
};

// Parses mqtt://host[:port] or tcp://host[:port] (optionally with a trailing '/').
// Returns InvalidArgument naming the URL on any other form.
Result<MqttAddress> ParseMqttUrl(std::string_view url);

// Validates the options (URL, topic template, qos, timeout, max_inflight) and returns a sink.
// Never touches the network. Returns InvalidArgument on bad options, Internal if libmosquitto
// cannot be initialised.
//
// libmosquitto is initialised once per process (std::call_once) and never cleaned up:
// mosquitto_lib_cleanup() would pull process-wide state from under any other client still
// alive, and the OS reclaims it at exit. Note that libmosquitto's mosquitto_new() sets SIGPIPE
// to SIG_IGN for the whole process (its own doing, on the first Send here); writes to a closed
// broker then fail with EPIPE instead of killing the collector.
//
// The returned sink is not thread-safe: Send() must not be called concurrently (the uploader
// never does). It drives libmosquitto's network loop itself (mosquitto_loop) on the calling
// thread, so every libmosquitto call and callback happens on that thread inside Send() and no
// lock is needed; nothing runs between two Sends. Consequently keepalive is not serviced
// while idle: a connection idle for longer than the keepalive (60 s) is replaced by a fresh
// one at the start of the next Send instead of trusting a socket the broker may have closed.
//
// Send() outcomes:
//  - kOk: every event got its PUBACK (PUBCOMP for qos 2) within the timeout.
//  - kRetry: cannot connect, connection refused or lost, or acknowledgements missing at the
//    deadline ("mqtt: 12 of 500 publishes not acknowledged within 10s"). The connection is
//    then dropped along with anything libmosquitto still queued (clean session), and the next
//    Send starts over on a new connection: the uploader's re-ship of the whole batch, not a
//    broker session, is what guarantees delivery, so no session state is kept on the broker.
//  - kPermanent: an event's topic is empty or longer than 65535 bytes (checked before anything
//    is published), or libmosquitto rejects an event as malformed or too large.
Result<std::unique_ptr<Sink>> MakeMqttSink(const MqttOptions& options);

}  // namespace cistern
