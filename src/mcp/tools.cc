#include "mcp/tools.h"

#include <fmt/format.h>

#include "common/json_writer.h"

namespace cistern::mcp {
namespace {

// Tool definitions for tools/list. {max_rows} is replaced with --max-rows.
constexpr const char* kToolsJson = R"json({"tools":[
{"name":"list_tables","title":"List tables",
 "description":"Lists the tables and views of the Cistern event database with their CREATE statements. Cistern's tables: event_log (the buffered events), devices (one row per device: pending = events not yet uploaded, last_seen_at = when it last sent one), upload_runs (each shipped id range first_id..last_id, and failed attempts folded with a count), meta (node_id, upload_cursor: every id up to it was uploaded), dead_letters (input acknowledged but not storable as an event, with the reason), mqtt_sessions and mqtt_qos2 (the MQTT listener's sessions). Views: events (event_log plus uploaded_at, NULL while pending) and pending_events (the events not yet uploaded). No row counts (counting a large event_log is slow): use backlog_summary, or query count(*) on the small tables.",
 "inputSchema":{"type":"object","properties":{},"additionalProperties":false},
 "annotations":{"readOnlyHint":true,"openWorldHint":false}},
{"name":"describe_table","title":"Describe a table",
 "description":"Describes one table or view: its columns (name, type, notnull, default, primary-key position), its indexes (with their columns, uniqueness and partial WHERE clause) and its CREATE statement.",
 "inputSchema":{"type":"object","properties":{"table":{"type":"string","description":"table or view name, as given by list_tables"}},"required":["table"],"additionalProperties":false},
 "annotations":{"readOnlyHint":true,"openWorldHint":false}},
{"name":"query","title":"Run a read-only SQL query",
 "description":"Runs exactly one read-only SQLite statement (SELECT, WITH ... SELECT, or a read-only PRAGMA such as table_info) against the live database and returns {columns, rows, row_count, truncated}. Writes, ATTACH, transactions and multiple statements are refused. Times are unix milliseconds (events.ts, uploaded_at, devices.last_seen_at, upload_runs.*_at); the current time is unixepoch()*1000. The view pending_events holds the events still waiting to be uploaded (a range of ids: fast); devices.pending counts them per device; filtering events on uploaded_at reads the whole table. Filter large tables on id or ts and use LIMIT; queries are interrupted after the server's timeout. At most {max_rows} rows are returned; truncated=true means more rows existed.",
 "inputSchema":{"type":"object","properties":{"sql":{"type":"string","description":"one read-only SQLite statement"},"limit":{"type":"integer","minimum":1,"maximum":{max_rows},"description":"most rows to return (default {default_rows}, at most {max_rows})"}},"required":["sql"],"additionalProperties":false},
 "annotations":{"readOnlyHint":true,"openWorldHint":false}},
{"name":"backlog_summary","title":"Backlog summary",
 "description":"Summarises the upload backlog of this Cistern node: how many events wait to be uploaded, the oldest pending event and its age, pending counts per device (largest first), the newest event, events stored so far (the highest id), the upload cursor (every id up to it was uploaded), and the last 10 upload runs with their status, id range, attempts and error. Every figure is kept up to date by the collector, so the summary is instant whatever the backlog. Ages are in milliseconds.",
 "inputSchema":{"type":"object","properties":{"devices_limit":{"type":"integer","minimum":1,"maximum":1000,"description":"how many devices to list in pending_by_device (default 20)"}},"additionalProperties":false},
 "annotations":{"readOnlyHint":true,"openWorldHint":false}}
]})json";

std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// {"content":[{"type":"text","text":<text>}] as the start of a CallToolResult.
void AppendTextContent(std::string* out, std::string_view text) {
  *out += R"({"content":[{"type":"text","text":)";
  AppendJsonString(out, text);
  *out += "}]";
}

// The answer twice, as the spec asks: as text and as structuredContent. Built in one buffer:
// for a large query answer this is the biggest string cistern-mcp holds.
std::string Success(const std::string& object_json) {
  std::string out;
  out.reserve(2 * object_json.size() + object_json.size() / 4 + 96);
  AppendTextContent(&out, object_json);
  out += R"(,"structuredContent":)";
  out += object_json;
  out += R"(,"isError":false})";
  return out;
}

std::string Failure(std::string_view tool, const Status& s) {
  std::string out;
  AppendTextContent(&out, fmt::format("{} failed: {}", tool, s.message()));
  out += R"(,"isError":true})";
  return out;
}

// The tools' own queries (schema, per-device list) are not capped by --max-rows, which is
// about operators' result sets; this only bounds a pathological schema.
constexpr int64_t kToolRowCap = 10'000;

}  // namespace

int64_t DefaultQueryRows(int64_t max_rows) { return std::min<int64_t>(100, max_rows); }

Tools::Tools(ReadOnlyDb* db, ToolLimits limits, std::function<int64_t()> now_ms)
    : db_(db), limits_(limits), now_ms_(std::move(now_ms)) {}

std::string Tools::ListJson() const {
  std::string out = ReplaceAll(kToolsJson, "{max_rows}", std::to_string(limits_.max_rows));
  out = ReplaceAll(std::move(out), "{default_rows}",
                   std::to_string(DefaultQueryRows(limits_.max_rows)));
  return ReplaceAll(std::move(out), "\n", "");
}

ToolCall Tools::Call(std::string_view name, simdjson::dom::object args) {
  Status bad_args;
  Result<std::string> out = Status::Internal("no tool ran");
  if (name == "list_tables") {
    out = ListTables(args, &bad_args);
  } else if (name == "describe_table") {
    out = DescribeTable(args, &bad_args);
  } else if (name == "query") {
    out = Query(args, &bad_args);
  } else if (name == "backlog_summary") {
    out = BacklogSummary(args, &bad_args);
  } else {
    return {Status::InvalidArgument(
                fmt::format("invalid params: unknown tool \"{}\"; tools/list names list_tables, "
                            "describe_table, query and backlog_summary",
                            name)),
            "", false};
  }
  if (!bad_args.ok()) return {bad_args, "", false};
  if (!out.ok()) return {Status::Ok(), Failure(name, out.status()), true};
  return {Status::Ok(), Success(*out), false};
}

Result<QueryResult> Tools::Run(std::string_view sql, const std::vector<SqlValue>& params) {
  return db_->Query(
      sql,
      QueryLimits{kToolRowCap, limits_.query_timeout, limits_.wal_wait, limits_.wal_budget_bytes},
      params);
}

void WriteRowObject(JsonWriter& w, const QueryResult& r, size_t i) {
  w.BeginObject();
  for (size_t c = 0; c < r.columns.size(); ++c) {
    w.Key(r.columns[c]);
    const SqlValue& v = r.rows[i][c];
    if (auto* n = std::get_if<int64_t>(&v)) {
      w.Int(*n);
    } else if (auto* d = std::get_if<double>(&v)) {
      w.Double(*d);
    } else if (auto* s = std::get_if<std::string>(&v)) {
      w.String(*s);
    } else if (auto* b = std::get_if<Blob>(&v)) {
      w.String(fmt::format("<blob {} bytes>", b->bytes.size()));
    } else {
      w.Null();
    }
  }
  w.EndObject();
}

void WriteRowObjects(JsonWriter& w, const QueryResult& r) {
  w.BeginArray();
  for (size_t i = 0; i < r.rows.size(); ++i) WriteRowObject(w, r, i);
  w.EndArray();
}

int64_t IntAt(const std::vector<SqlValue>& row, size_t i, int64_t fallback) {
  if (i >= row.size()) return fallback;
  if (auto* v = std::get_if<int64_t>(&row[i])) return *v;
  if (auto* d = std::get_if<double>(&row[i])) return static_cast<int64_t>(*d);
  return fallback;
}

bool IsNullAt(const std::vector<SqlValue>& row, size_t i) {
  return i >= row.size() || std::holds_alternative<std::nullptr_t>(row[i]);
}

std::string TextAt(const std::vector<SqlValue>& row, size_t i) {
  if (i >= row.size()) return "";
  if (auto* s = std::get_if<std::string>(&row[i])) return *s;
  if (auto* v = std::get_if<int64_t>(&row[i])) return std::to_string(*v);
  if (auto* d = std::get_if<double>(&row[i])) return fmt::format("{}", *d);
  return "";
}

}  // namespace cistern::mcp
