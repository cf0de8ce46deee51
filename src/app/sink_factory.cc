#include "app/sink_factory.h"

#include <functional>
#include <map>

#include "sinks/flaky/flaky_sink.h"
#include "sinks/log/log_sink.h"
#include "sinks/mqtt/mqtt_sink.h"
#include "sinks/nats/nats_sink.h"
#include "sinks/otlp/otlp_sink.h"
#include "sinks/webhook/webhook_sink.h"

namespace cistern {

Result<std::unique_ptr<Sink>> MakeSink(const SinkConfig& c, const std::string& node_id) {
  using Factory = std::function<Result<std::unique_ptr<Sink>>()>;
  const std::map<std::string, Factory> registry = {
      {"log", [] { return Result<std::unique_ptr<Sink>>(std::make_unique<LogSink>()); }},
      {"webhook",
       [&] {
         WebhookOptions o;
         o.url = c.webhook_url;
         o.gzip = c.webhook_gzip;
         o.timeout = c.webhook_timeout;
         o.authorization = c.webhook_authorization;
         return MakeWebhookSink(o);
       }},
      {"otlp",
       [&] {
         OtlpSinkOptions o;
         o.url = c.otlp_url;
         o.encoding = c.otlp_encoding == "json" ? OtlpEncoding::kJson : OtlpEncoding::kProtobuf;
         o.gzip = c.otlp_gzip;
         o.headers = c.otlp_headers;
         o.timeout = c.otlp_timeout;
         return MakeOtlpSink(o);
       }},
      {"nats",
       [&] {
         NatsOptions o;
         o.url = c.nats_url;
         o.subject = c.nats_subject;
         o.stream = c.nats_stream;
         o.replicas = c.nats_replicas;
         o.timeout = c.sink_timeout;
         return MakeNatsSink(o);
       }},
      {"mqtt",
       [&] {
         MqttOptions o;
         o.url = c.mqtt_url;
         o.topic = c.mqtt_topic;
         o.client_id = "cistern-" + node_id;
         o.timeout = c.sink_timeout;
         return MakeMqttSink(o);
       }},
  };
  auto it = registry.find(c.name);
  if (it == registry.end()) return Status::InvalidArgument("unknown sink '" + c.name + "'");
  auto sink = it->second();
  if (!sink.ok() || c.flaky_every <= 0) return sink;
  return std::unique_ptr<Sink>(std::make_unique<FlakySink>(std::move(sink.value()), c.flaky_every));
}

}  // namespace cistern
