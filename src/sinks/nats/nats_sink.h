// NatsSink: ships each event of a batch as one message to a NATS JetStream stream (libnats,
// docs/delivery.md).
//
// Message i of a batch:
//   subject  FillTemplate(options.subject, batch, i, /*nats=*/true), e.g. cistern.events.dev-1
//   body     AppendEventJson(batch, i): {"id","node_id","device_id","kind","payload","ts"}
//   header   Nats-Msg-Id: EventKey(batch, i) = "<node_id>-<id>"
// All messages of a batch are published asynchronously (no round trip per message); Send()
// then waits once for every PubAck, bounded by options.timeout.
//
// Delivery: at-least-once from the collector, effectively-once in the stream. A batch that is
// re-shipped (after a Retry, or after a crash between ship and checkpoint) carries the same
// Nats-Msg-Id values, so JetStream drops the copies it stored within the stream's duplicate
// window (the stream's `duplicate_window`, 2 min by default; a stream this sink creates keeps
// the default) and acknowledges them with duplicate=true; SendResult::duplicates counts those.
// A re-ship later than the window stores the events again.
//
// Outcome:
//   every message acknowledged (stored or duplicate)          -> kOk(duplicates)
//   not connected (server down, reconnecting), a negative or
//   missing PubAck (e.g. "no responders" while a cluster elects
//   a stream leader, timeout), stream lookup/creation failed  -> kRetry
//   an event over the server's max_payload or the stream's max
//   message size; the stream cannot be created as configured
//   (replicas > 1 on a single server, subjects overlap another
//   stream)                                                   -> kPermanent
// Error messages start with "nats: " and say how many publishes failed and the first reason,
// e.g. "nats: 3 of 500 publishes not acknowledged: no responders". URLs in messages carry no
// credentials.
//
// Connection: nothing is opened by MakeNatsSink(), so the collector starts during an outage.
// The first Send() connects; from then on the library reconnects in the background forever
// (to any URL of the list, and to cluster members the servers advertise) and a Send() made
// while disconnected returns kRetry at once. Once connected, and again when batches have met
// "no responders" for 15 s (longer than a cluster takes to elect a stream leader; e.g. a
// server that lost its store), the sink makes sure the stream exists (js_GetStreamInfo, else
// js_AddStream with stream_subject and replicas; "stream name already in use" counts as
// existing). An existing stream is used as it is, whatever its configuration.
//
// Time: one Send() takes at most about options.timeout (stream lookup/creation and all
// PubAcks share it), plus the connect timeout (capped at 5 s per server) on the first call.
//
// Thread-safety: a NatsSink is used by one thread at a time (the uploader's); Send() is never
// called concurrently. libnats delivers PubAcks on its own thread; the sink synchronises that
// internally and no callback for a batch runs after its Send() returned.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "sinks/api/sink.h"

namespace cistern {

struct NatsOptions {
  // One server, or a comma-separated list (a cluster): "nats://a:4222,nats://b:4222".
  std::string url = "nats://127.0.0.1:4222";
  // Subject template: <device_id>, <kind> and <node_id> are filled per event.
  std::string subject = "cistern.events.<device_id>";
  // The JetStream stream the events must land in; created when missing.
  std::string stream = "CISTERN";
  // The subject filter of a stream this sink creates. Empty: derived from the template's
  // tokens before the first placeholder ("cistern.events.<device_id>" -> "cistern.events.>";
  // a template without placeholders is used as it is).
  std::string stream_subject;
  // Bounds one Send() (all PubAcks of a batch) and each JetStream API request. Must be > 0.
  std::chrono::milliseconds timeout{10000};
  // Replicas of a stream this sink creates (1..5; 3 for an R3 stream in a cluster).
  int replicas = 1;
};

// The subject filter a stream created for `options` gets (see NatsOptions::stream_subject).
// Returns InvalidArgument when none can be derived (the template starts with a placeholder).
Result<std::string> NatsStreamSubject(const NatsOptions& options);

// Creates a JetStream sink. Opens no connection (see above), so a server that is down now does
// not make this fail. Returns InvalidArgument when the URL list, subject or stream name is
// empty or malformed, the timeout is not positive, replicas is outside 1..5, or no stream
// subject can be derived; Internal when libnats cannot allocate its options.
Result<std::unique_ptr<Sink>> MakeNatsSink(const NatsOptions& options);

}  // namespace cistern
