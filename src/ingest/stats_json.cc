#include "ingest/stats_json.h"

#include <string>

#include "common/json_writer.h"
#include "ingest/mqtt/stats.h"

namespace cistern {
namespace {

void WriteLatency(JsonWriter& w, std::string_view key, const LatencyHistogram::Snapshot& s) {
  w.Key(key);
  w.BeginObject();
  w.Key("count");
  w.Uint(s.count);
  w.Key("p50");
  w.Double(s.QuantileUs(0.50) / 1000.0);
  w.Key("p99");
  w.Double(s.QuantileUs(0.99) / 1000.0);
  w.Key("max");
  w.Double(s.max_us / 1000.0);
  w.Key("mean");
  w.Double(s.count ? static_cast<double>(s.sum_us) / s.count / 1000.0 : 0.0);
  w.EndObject();
}

}  // namespace

std::string RenderStats(const StoreStats& s, const HttpCounters& c, const mqtt::MqttCounters* mqtt,
                        const ComponentStatus* uploader, const ConfigReloads& r) {
  JsonWriter w;
  w.BeginObject();
  w.Key("store");
  w.BeginObject();
  w.Key("mode");
  w.String(s.mode);
  w.Key("indexed");
  w.Bool(s.indexed);
  w.Key("node_id");
  w.String(s.node_id);
  w.Key("path");
  w.String(s.path);
  w.Key("events_written");
  w.Int(s.events_written);
  w.Key("events_written_session");
  w.Int(s.events_written_session);
  w.Key("backlog");
  w.Int(s.backlog);
  w.Key("max_backlog");
  w.Int(s.max_backlog);
  w.Key("devices_seen");
  w.Int(s.devices_seen);
  w.Key("events_uploaded");
  w.Int(s.events_uploaded);
  w.Key("events_dropped");
  w.Int(s.events_dropped);
  w.Key("events_pruned");
  w.Int(s.events_pruned);
  w.Key("dead_letters");
  w.Int(s.dead_letters);
  w.Key("upload_cursor");
  w.Int(s.upload_cursor);
  w.Key("on_full");
  w.String(s.on_full);
  w.Key("max_db_bytes");
  w.Int(s.max_db_bytes);
  w.Key("used_bytes");
  w.Int(s.used_bytes);
  w.Key("commits");
  w.Int(s.commits);
  w.Key("commit_failures");
  w.Int(s.commit_failures);
  w.Key("requests_per_commit");
  w.Double(s.commits ? static_cast<double>(s.requests_committed) / s.commits : 0.0);
  w.Key("commit_conflicts");
  w.Int(s.commit_conflicts);
  WriteLatency(w, "commit_latency_ms", s.commit_latency);
  w.Key("commit_phases_ms");  // where commit_latency_ms went (docs/storage.md)
  w.BeginObject();
  WriteLatency(w, "begin", s.commit_begin_latency);
  WriteLatency(w, "store", s.commit_store_latency);
  WriteLatency(w, "commit", s.commit_sync_latency);
  w.EndObject();
  w.Key("checkpoints");
  w.Int(s.checkpoints);
  WriteLatency(w, "checkpoint_ms", s.checkpoint_latency);
  w.Key("checkpoints_deferred");
  w.Int(s.checkpoints_deferred);
  w.Key("inline_checkpoint_max_frames");  // most frames one in-commit checkpoint faced
  w.Int(s.inline_checkpoint_max_frames);
  w.Key("background_checkpoints");
  w.Int(s.background_checkpoints);
  WriteLatency(w, "background_checkpoint_ms", s.background_checkpoint_latency);
  w.Key("wal_frames");
  w.Int(s.wal_frames);
  w.Key("queue_depth");
  w.Int(s.queue_depth);
  w.Key("db_bytes");
  w.Int(s.db_bytes);
  w.EndObject();

  w.Key("http");
  w.BeginObject();
  w.Key("requests");
  w.Int(c.requests.load());
  w.Key("events_accepted");
  w.Int(c.events_accepted.load());
  // By exact status code, the codes answered so far only (cistern_http_requests_total).
  w.Key("responses");
  w.BeginObject();
  for (unsigned code = HttpCounters::kMinCode; code <= HttpCounters::kMaxCode; ++code) {
    if (int64_t n = c.Answered(code); n > 0) {
      w.Key(std::to_string(code));
      w.Int(n);
    }
  }
  w.EndObject();
  WriteLatency(w, "post_latency_ms", c.latency(IngestRoute::kEvents).Take());
  w.EndObject();

  if (mqtt) {
    w.Key("mqtt");
    mqtt::WriteMqttStats(w, *mqtt);
  }
  w.Key("uploader");
  if (uploader) {
    uploader->WriteStats(w);
  } else {
    w.BeginObject();
    w.Key("configured");
    w.Bool(false);
    w.EndObject();
  }
  w.Key("config");
  w.BeginObject();
  w.Key("loaded_at_ms");
  w.Int(r.loaded_at_ms.load());
  w.Key("reloads");
  w.Int(r.ok.load());
  w.Key("reload_failures");
  w.Int(r.error.load());
  w.Key("restart_pending");
  w.Int(r.restart_pending.load());
  w.EndObject();
  w.EndObject();
  return w.Take();
}

}  // namespace cistern
