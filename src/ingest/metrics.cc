#include "ingest/metrics.h"

#include <string>

#include "common/prometheus_writer.h"
#include "ingest/mqtt/stats.h"

namespace cistern {

std::string RenderMetrics(const StoreStats& s, const HttpCounters& c,
                          const ComponentStatus* uploader, bool ready, const ConfigReloads& r,
                          const mqtt::MqttCounters* mqtt) {
  PrometheusWriter w;
  w.Family("cistern_build_info", "gauge", "Constant 1, labelled with the collector's identity");
  w.Sample("cistern_build_info", int64_t{1},
           {{"version", CISTERN_VERSION},
            {"node_id", s.node_id},
            {"mode", s.mode},
            {"on_full", s.on_full}});

  w.Family("cistern_ready", "gauge",
           "1 while events sent now would be stored (what GET /readyz answers 200 for)");
  w.Sample("cistern_ready", int64_t{ready ? 1 : 0});

  // Events through the buffer. events_written counts every id ever assigned in this file
  // (it survives restarts); the others count from this process's start.
  w.Counter("cistern_events_written_total",
            "Events committed to the buffer (ids assigned in this database file)",
            s.events_written);
  w.Counter("cistern_events_uploaded_total", "Events marked uploaded after the sink's ack",
            s.events_uploaded);
  w.Counter("cistern_events_dropped_total",
            "Un-uploaded events evicted by --on-full drop-oldest (never silent)", s.events_dropped);
  w.Counter("cistern_events_pruned_total",
            "Uploaded events deleted by retention or to stay under --max-db-bytes",
            s.events_pruned);
  w.Counter("cistern_dead_letters_total",
            "Acknowledged input that could not become an event, kept in dead_letters",
            s.dead_letters);
  w.Counter("cistern_events_accepted_total", "Events in ingest requests answered 200",
            c.events_accepted.load());

  // Rejected requests by reason: nothing of a rejected request is stored.
  const int64_t buffer_full = c.rejected_buffer_full.load();
  w.Family("cistern_requests_rejected_total", "counter",
           "Ingest requests refused, by reason (nothing of them was stored)");
  const std::pair<const char*, int64_t> reasons[] = {
      {"invalid", c.Answered(400)},
      {"unauthorized", c.ingest_unauthorized.load()},
      {"too_large", c.Answered(413)},
      {"unsupported_encoding", c.Answered(415)},
      {"buffer_full", buffer_full},
      {"unavailable", c.Answered(503) - buffer_full},
      {"disk_full", c.Answered(507)},
      {"internal", c.AnsweredIn(500, 599) - c.Answered(503) - c.Answered(507)},
  };
  for (const auto& [reason, n] : reasons) {
    w.Sample("cistern_requests_rejected_total", n, {{"reason", reason}});
  }
  // By exact code; a code appears once it has been answered (Prometheus treats a series
  // that starts later as starting from 0).
  w.Family("cistern_http_requests_total", "counter", "HTTP requests answered, by status code");
  for (unsigned code = HttpCounters::kMinCode; code <= HttpCounters::kMaxCode; ++code) {
    if (int64_t n = c.Answered(code); n > 0) {
      w.Sample("cistern_http_requests_total", n, {{"code", std::to_string(code)}});
    }
  }

  // The write path.
  w.Counter("cistern_commits_total", "Write transactions committed (a group commit is one)",
            s.commits);
  w.Counter("cistern_commit_failures_total", "Write transactions that failed and rolled back",
            s.commit_failures);
  w.Counter("cistern_commit_requests_total", "Requests committed (divide by commits: group size)",
            s.requests_committed);
  w.Counter("cistern_commit_conflicts_total",
            "SQLite busy/snapshot conflicts retried (--mode concurrent only)", s.commit_conflicts);
  w.Counter("cistern_checkpoints_total", "WAL checkpoints run inside commits", s.checkpoints);
  w.Counter("cistern_background_checkpoints_total",
            "Catch-up WAL checkpoints run by the checkpointer thread (outside commits)",
            s.background_checkpoints);

  w.Gauge("cistern_backlog_events", "Events stored and not yet uploaded",
          static_cast<double>(s.backlog));
  w.Gauge("cistern_backlog_limit_events", "--max-backlog (0 = unlimited)",
          static_cast<double>(s.max_backlog));
  w.Gauge("cistern_db_bytes", "Database file plus WAL on disk, bytes",
          static_cast<double>(s.db_bytes));
  w.Gauge("cistern_db_used_bytes", "Pages in use in the database file, bytes",
          static_cast<double>(s.used_bytes));
  w.Gauge("cistern_db_limit_bytes", "--max-db-bytes (0 = unlimited)",
          static_cast<double>(s.max_db_bytes));
  w.Gauge("cistern_wal_frames", "Frames in the write-ahead log", static_cast<double>(s.wal_frames));
  w.Gauge("cistern_write_queue_depth", "Requests and jobs waiting for the writer",
          static_cast<double>(s.queue_depth));
  w.Gauge("cistern_devices_seen", "Distinct device ids stored in this database file",
          static_cast<double>(s.devices_seen));

  w.Histogram("cistern_commit_duration_seconds", "Time of one write transaction, BEGIN to COMMIT",
              s.commit_latency);
  w.Histogram("cistern_checkpoint_duration_seconds", "Time of one WAL checkpoint",
              s.checkpoint_latency);
  w.Family("cistern_http_request_duration_seconds", "histogram",
           "POST latency of the ingest routes, request received to answer ready, every answer");
  for (size_t r = 0; r < kIngestRoutePaths.size(); ++r) {
    w.HistogramSamples("cistern_http_request_duration_seconds", c.post_latency[r].Take(),
                       {{"route", kIngestRoutePaths[r]}});
  }

  if (mqtt != nullptr) mqtt::WriteMqttMetrics(w, *mqtt);
  if (uploader != nullptr) uploader->WriteMetrics(w);

  // The configuration in effect (docs/configuration.md "Reload").
  w.Family("cistern_config_reloads_total", "counter",
           "SIGHUP config reloads, by result (error: the running config stayed)");
  w.Sample("cistern_config_reloads_total", r.ok.load(), {{"result", "ok"}});
  w.Sample("cistern_config_reloads_total", r.error.load(), {{"result", "error"}});
  w.Gauge("cistern_config_loaded_timestamp_seconds", "When the config in effect was loaded",
          static_cast<double>(r.loaded_at_ms.load()) / 1000.0);
  return w.Take();
}

}  // namespace cistern
