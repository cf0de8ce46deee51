// The backlog_summary tool (declared in mcp/tools.h). Every figure is one the store keeps
// up to date in the same transaction as the events (docs/lifecycle.md), or an indexed
// lookup: per-device pending counts from `devices`, the backlog as their sum, the oldest
// pending event by a rowid seek past the upload cursor. Nothing scans the events, so the
// summary costs the same with 10 or 10 million events pending.
#include <fmt/format.h>

#include "common/json_writer.h"
#include "mcp/tool_args.h"
#include "mcp/tools.h"

namespace cistern::mcp {
namespace {

constexpr int64_t kDefaultDevices = 20;
constexpr int64_t kUploadRunsShown = 10;

// The headline figures in one statement, so they come from one read snapshot.
constexpr const char* kHeadlineSql = R"sql(
SELECT (SELECT coalesce(sum(pending), 0) FROM devices),
       (SELECT count(*) FROM devices WHERE pending > 0),
       max(coalesce((SELECT max(id) FROM event_log), 0),
           coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'id_high_water'), 0)),
       coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'upload_cursor'), 0),
       (SELECT value FROM meta WHERE key = 'node_id'),
       (SELECT value FROM meta WHERE key = 'schema_version'))sql";

// An event as {id, device_id, kind, ts, age_ms} (?1 = now), or null when there is none.
constexpr const char* kOldestPendingSql =
    "SELECT id, device_id, kind, ts, ?1 - ts AS age_ms FROM event_log WHERE id > ?2 "
    "ORDER BY id LIMIT 1";
constexpr const char* kNewestSql =
    "SELECT id, device_id, kind, ts, ?1 - ts AS age_ms FROM event_log ORDER BY id DESC LIMIT 1";

void WriteFirstRowOrNull(JsonWriter& w, const QueryResult& r) {
  if (r.rows.empty()) {
    w.Null();
  } else {
    WriteRowObject(w, r, 0);
  }
}

}  // namespace

Result<std::string> Tools::BacklogSummary(simdjson::dom::object args, Status* bad_args) {
  if (*bad_args = CheckKnownArgs("backlog_summary", args, {"devices_limit"}); !bad_args->ok()) {
    return *bad_args;
  }
  auto limit = IntArg("backlog_summary", args, "devices_limit", 1, 1000);
  if (!limit.ok()) return *bad_args = limit.status();
  const int64_t devices_limit = limit->value_or(kDefaultDevices);

  const int64_t now = now_ms_();
  auto head = Run(kHeadlineSql);
  if (!head.ok()) return head.status();
  const auto& h = head->rows.at(0);
  auto oldest = Run(kOldestPendingSql, {now, IntAt(h, 3)});
  if (!oldest.ok()) return oldest.status();
  auto newest = Run(kNewestSql, {now});
  if (!newest.ok()) return newest.status();
  auto per_device =
      Run("SELECT device_key AS device_id, pending, last_seen_at FROM devices WHERE pending > 0 "
          "ORDER BY pending DESC, device_key LIMIT ?1",
          {devices_limit});
  if (!per_device.ok()) return per_device.status();
  auto runs =
      Run("SELECT id, started_at, finished_at, event_count, status, error, first_id, last_id, "
          "attempts FROM upload_runs "
          "ORDER BY id DESC LIMIT ?1",
          {kUploadRunsShown});
  if (!runs.ok()) return runs.status();

  JsonWriter w;
  w.BeginObject();
  w.Key("node_id");
  w.String(TextAt(h, 4));
  w.Key("schema_version");
  w.String(TextAt(h, 5));
  w.Key("now_ms");
  w.Int(now);
  w.Key("backlog");
  w.Int(IntAt(h, 0));
  w.Key("devices_with_backlog");
  w.Int(IntAt(h, 1));
  w.Key("events_total");  // the highest id: events stored so far, shipped or not
  w.Int(IntAt(h, 2));
  w.Key("upload_cursor");  // every id up to this one was shipped
  w.Int(IntAt(h, 3));
  w.Key("oldest_pending");
  WriteFirstRowOrNull(w, *oldest);
  w.Key("newest_event");
  WriteFirstRowOrNull(w, *newest);
  w.Key("pending_by_device");
  WriteRowObjects(w, *per_device);
  w.Key("pending_by_device_truncated");
  w.Bool(IntAt(h, 1) > static_cast<int64_t>(per_device->rows.size()));
  w.Key("last_upload_runs");
  WriteRowObjects(w, *runs);
  w.EndObject();
  return w.Take();
}

}  // namespace cistern::mcp
