// Tools: the four read-only MCP tools of cistern-mcp and their definitions for tools/list.
//
//   list_tables      tables and views with their CREATE statements (no row counts: count(*)
//                    scans a large events table)
//   describe_table   {table}: columns, indexes, CREATE statement
//   query            {sql, limit?}: one read-only statement, bounded in rows and time
//   backlog_summary  {devices_limit?}: backlog size, oldest pending event, pending per
//                    device, totals, last upload runs
// Every SQL statement, including the tools' own, runs through ReadOnlyDb's guard.
// Thread-safety: not thread-safe; one owner thread (like the ReadOnlyDb it uses).
#pragma once

#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/json_writer.h"
#include "common/status.h"
#include "mcp/readonly_db.h"

namespace cistern::mcp {

struct ToolLimits {
  int64_t max_rows = 1000;  // --max-rows: the most rows one query answer holds
  std::chrono::milliseconds query_timeout{2000};
  // --wal-wait: before each query, wait up to this long for the live file's WAL to be short
  // (QueryLimits::wal_wait; 0 in snapshot mode, where there is no live WAL).
  std::chrono::milliseconds wal_wait{0};
  int64_t wal_budget_bytes = 0;  // --wal-budget (QueryLimits::wal_budget_bytes)
};

// The outcome of tools/call.
struct ToolCall {
  // Non-ok (InvalidArgument) when the request itself is wrong: unknown tool, missing or
  // mistyped argument. The server answers JSON-RPC -32602 with its message.
  Status invalid_params;
  // Otherwise the MCP CallToolResult JSON: {content:[{type:"text",text}], structuredContent,
  // isError:false} on success, {content:[...message...], isError:true} when the tool ran and
  // failed (write refused, SQL error, timeout, unknown table).
  std::string result_json;
  bool is_error = false;  // result_json is an isError:true result
};

class Tools {
 public:
  // `db` must outlive the Tools. `now_ms` gives the wall clock in unix ms (ages are computed
  // against it; tests pass a fixed one).
  Tools(ReadOnlyDb* db, ToolLimits limits, std::function<int64_t()> now_ms);

  // The tools/list result: {"tools":[{name, title, description, inputSchema, annotations}]}.
  std::string ListJson() const;

  // Runs tool `name` with `args` (the tools/call "arguments" object).
  ToolCall Call(std::string_view name, simdjson::dom::object args);

 private:
  // Each returns the tool's JSON object, or the Status of a failed run. An argument error
  // is stored in *bad_args instead (and the returned value is then meaningless).
  Result<std::string> ListTables(simdjson::dom::object args, Status* bad_args);
  Result<std::string> DescribeTable(simdjson::dom::object args, Status* bad_args);
  Result<std::string> Query(simdjson::dom::object args, Status* bad_args);
  Result<std::string> BacklogSummary(simdjson::dom::object args, Status* bad_args);

  // Runs the tools' own SQL under the same guard and timeout as operators' SQL.
  Result<QueryResult> Run(std::string_view sql, const std::vector<SqlValue>& params = {});

  ReadOnlyDb* const db_;     // constant after construction; not owned
  const ToolLimits limits_;  // constant after construction
  const std::function<int64_t()> now_ms_;
};

// The query tool's row count when no limit is given: min(100, max_rows).
int64_t DefaultQueryRows(int64_t max_rows);

// Writes row `i` of `r` as an object keyed by the column names (SQL aliases name the keys):
// INTEGER -> number, TEXT -> string, NULL -> null, REAL -> number, BLOB -> "<blob N bytes>".
void WriteRowObject(JsonWriter& w, const QueryResult& r, size_t i);
// Writes every row of `r` as an array of such objects.
void WriteRowObjects(JsonWriter& w, const QueryResult& r);

// Helpers for reading result cells in the tool implementations.
int64_t IntAt(const std::vector<SqlValue>& row, size_t i, int64_t fallback = 0);
bool IsNullAt(const std::vector<SqlValue>& row, size_t i);
// The TEXT (or number printed as text) at `i`; "" for NULL.
std::string TextAt(const std::vector<SqlValue>& row, size_t i);

}  // namespace cistern::mcp
