// The list_tables, describe_table and query tools (declared in mcp/tools.h).
#include <fmt/format.h>

#include <limits>

#include "common/json_writer.h"
#include "mcp/tool_args.h"
#include "mcp/tools.h"

namespace cistern::mcp {
namespace {

void WriteTextOrNull(JsonWriter& w, const std::vector<SqlValue>& row, size_t i) {
  if (IsNullAt(row, i)) {
    w.Null();
  } else {
    w.String(TextAt(row, i));
  }
}

// Inserts ,"key":raw before the closing brace of the JSON object `obj`.
void AppendRawField(std::string* obj, std::string_view key, std::string_view raw) {
  obj->pop_back();  // '}'
  *obj += ',';
  AppendJsonString(obj, key);
  *obj += ':';
  *obj += raw;
  *obj += '}';
}

}  // namespace

Result<std::string> Tools::ListTables(simdjson::dom::object args, Status* bad_args) {
  if (*bad_args = CheckKnownArgs("list_tables", args, {}); !bad_args->ok()) return *bad_args;
  auto r =
      Run("SELECT name, type, sql FROM sqlite_schema WHERE type IN ('table','view') AND name NOT "
          "LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
  if (!r.ok()) return r.status();
  JsonWriter w;
  w.BeginObject();
  w.Key("tables");
  WriteRowObjects(w, *r);
  w.EndObject();
  return w.Take();
}

Result<std::string> Tools::DescribeTable(simdjson::dom::object args, Status* bad_args) {
  if (*bad_args = CheckKnownArgs("describe_table", args, {"table"}); !bad_args->ok()) {
    return *bad_args;
  }
  auto table_arg = StringArg("describe_table", args, "table", true);
  if (!table_arg.ok()) return *bad_args = table_arg.status();
  const std::string table = **table_arg;
  auto found = Run("SELECT type, sql FROM sqlite_schema WHERE type IN ('table','view') AND name=?1",
                   {table});
  if (!found.ok()) return found.status();
  if (found->rows.empty()) {
    return Status::InvalidArgument(
        fmt::format("no table or view named \"{}\"; list_tables shows what exists", table));
  }
  auto cols =
      Run("SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) "
          "ORDER BY cid",
          {table});
  if (!cols.ok()) return cols.status();
  auto indexes =
      Run("SELECT il.name, il.\"unique\", il.origin, il.partial, s.sql, "
          "(SELECT group_concat(ii.name, ',') FROM pragma_index_info(il.name) AS ii) "
          "FROM pragma_index_list(?1) AS il LEFT JOIN sqlite_schema AS s ON s.name = il.name "
          "ORDER BY il.name",
          {table});
  if (!indexes.ok()) return indexes.status();

  JsonWriter w;
  w.BeginObject();
  w.Key("name");
  w.String(table);
  w.Key("type");
  w.String(TextAt(found->rows[0], 0));
  w.Key("columns");
  w.BeginArray();
  for (const auto& row : cols->rows) {
    w.BeginObject();
    w.Key("name");
    w.String(TextAt(row, 0));
    w.Key("type");
    w.String(TextAt(row, 1));
    w.Key("notnull");
    w.Bool(IntAt(row, 2) != 0);
    w.Key("default");
    WriteTextOrNull(w, row, 3);
    w.Key("pk");
    w.Int(IntAt(row, 4));
    if (IntAt(row, 5) != 0) {
      w.Key("hidden");
      w.Int(IntAt(row, 5));
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("indexes");
  w.BeginArray();
  for (const auto& row : indexes->rows) {
    w.BeginObject();
    w.Key("name");
    w.String(TextAt(row, 0));
    w.Key("unique");
    w.Bool(IntAt(row, 1) != 0);
    w.Key("origin");  // c = CREATE INDEX, u = UNIQUE constraint, pk = PRIMARY KEY
    w.String(TextAt(row, 2));
    w.Key("partial");
    w.Bool(IntAt(row, 3) != 0);
    w.Key("columns");
    w.BeginArray();
    std::string names = TextAt(row, 5);
    for (size_t at = 0; !names.empty() && at <= names.size();) {
      size_t comma = names.find(',', at);
      if (comma == std::string::npos) comma = names.size();
      w.String(std::string_view(names).substr(at, comma - at));
      at = comma + 1;
    }
    w.EndArray();
    w.Key("sql");
    WriteTextOrNull(w, row, 4);
    w.EndObject();
  }
  w.EndArray();
  w.Key("sql");
  WriteTextOrNull(w, found->rows[0], 1);
  w.EndObject();
  return w.Take();
}

Result<std::string> Tools::Query(simdjson::dom::object args, Status* bad_args) {
  if (*bad_args = CheckKnownArgs("query", args, {"sql", "limit"}); !bad_args->ok()) {
    return *bad_args;
  }
  auto sql = StringArg("query", args, "sql", true);
  if (!sql.ok()) return *bad_args = sql.status();
  auto limit_arg = IntArg("query", args, "limit", 1, std::numeric_limits<int64_t>::max());
  if (!limit_arg.ok()) return *bad_args = limit_arg.status();
  // A limit above --max-rows is lowered to it (the answer says which limit applied).
  int64_t limit =
      std::min(limit_arg->value_or(DefaultQueryRows(limits_.max_rows)), limits_.max_rows);
  auto r = db_->Query(
      **sql, QueryLimits{limit, limits_.query_timeout, limits_.wal_wait, limits_.wal_budget_bytes});
  if (!r.ok()) return r.status();

  JsonWriter w;
  w.BeginObject();
  w.Key("columns");
  w.BeginArray();
  for (const auto& c : r->columns) w.String(c);
  w.EndArray();
  w.Key("row_count");
  w.Int(static_cast<int64_t>(r->rows.size()));
  w.Key("truncated");
  w.Bool(r->truncated);
  w.Key("limit");
  w.Int(limit);
  w.Key("elapsed_ms");
  w.Int(r->elapsed_ms);
  if (r->waited_ms > 0) {  // waited for the collector to rewind its WAL (docs/mcp.md)
    w.Key("waited_ms");
    w.Int(r->waited_ms);
  }
  if (r->byte_capped) {
    w.Key("note");
    w.String(fmt::format(
        "more rows exist, but the next one did not fit: one answer holds at most {} bytes of "
        "values; select fewer columns, substr() of long values, or aggregate",
        ReadOnlyDb::kMaxResultBytes));
  } else if (r->truncated) {
    w.Key("note");
    w.String(fmt::format(
        "more rows exist than were returned; narrow the query, aggregate, or raise limit "
        "(at most {})",
        limits_.max_rows));
  }
  w.EndObject();
  // Rows are encoded by AppendSqlValueJson (REAL values keep every digit).
  std::string rows = "[";
  for (size_t i = 0; i < r->rows.size(); ++i) {
    if (i) rows += ',';
    rows += '[';
    for (size_t j = 0; j < r->rows[i].size(); ++j) {
      if (j) rows += ',';
      AppendSqlValueJson(&rows, r->rows[i][j]);
    }
    rows += ']';
  }
  rows += ']';
  std::string out = w.Take();
  AppendRawField(&out, "rows", rows);
  return out;
}

}  // namespace cistern::mcp
