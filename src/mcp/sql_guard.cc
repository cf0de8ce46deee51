#include "mcp/sql_guard.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace cistern::mcp {
namespace {

// Pragmas whose argument names a schema object: they only describe it.
constexpr std::array<std::string_view, 8> kIntrospectionPragmas = {
    "table_info", "table_xinfo", "table_list",       "index_list",
    "index_info", "index_xinfo", "foreign_key_list", "foreign_key_check"};
// Pragmas that report a setting or a figure; allowed only without "= value". (Not
// journal_mode: even reading it is a statement SQLite marks as not read-only.)
constexpr std::array<std::string_view, 12> kValuePragmas = {
    "user_version",  "schema_version",  "application_id", "page_size",
    "page_count",    "freelist_count",  "encoding",       "data_version",
    "database_list", "compile_options", "collation_list", "function_list"};

// Functions a statement may call (docs/mcp.md lists them and why the others are refused).
// Every one is read-only and runs in time linear in its arguments, or is replaced by an
// interruptible version (instr, replace, trim with a character set: see sql_functions.h).
// Names that this libsqlite3 lacks (unhex, string_agg, ...) are listed for newer ones.
constexpr std::string_view kAllowedFunctions[] = {
    // Core scalar functions.
    "abs", "char", "coalesce", "concat", "concat_ws", "glob", "hex", "ifnull", "iif", "instr",
    "length", "like", "likelihood", "likely", "lower", "ltrim", "max", "min", "nullif",
    "octet_length", "quote", "random", "randomblob", "replace", "round", "rtrim", "sign", "soundex",
    "sqlite_compileoption_get", "sqlite_compileoption_used", "sqlite_source_id", "sqlite_version",
    "substr", "substring", "trim", "typeof", "unhex", "unicode", "unlikely", "upper", "zeroblob",
    // Math functions.
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "ceiling", "cos", "cosh",
    "degrees", "exp", "floor", "ln", "log", "log10", "log2", "mod", "pi", "pow", "power", "radians",
    "sin", "sinh", "sqrt", "tan", "tanh", "trunc",
    // Date and time.
    "current_date", "current_time", "current_timestamp", "date", "datetime", "julianday",
    "strftime", "time", "timediff", "unixepoch",
    // JSON (json_each and json_tree are table-valued: see kAllowedVirtualTables).
    "->", "->>", "json", "json_array", "json_array_length", "json_extract", "json_group_array",
    "json_group_object", "json_insert", "json_object", "json_quote", "json_remove", "json_replace",
    "json_set", "json_type", "json_valid",
    // Aggregates.
    "avg", "count", "group_concat", "string_agg", "sum", "total",
    // Window functions.
    "cume_dist", "dense_rank", "first_value", "lag", "last_value", "lead", "nth_value", "ntile",
    "percent_rank", "rank", "row_number"};

// Why some well-known functions are refused (others get the generic message).
std::string_view RefusalReason(const std::string& name) {
  if (name == "printf" || name == "format") {
    return "one call can run for seconds past the timeout, since a width or precision is "
           "formatted inside a single uninterruptible step; use round(), substr() and ||";
  }
  if (name == "load_extension") return "it would load native code";
  if (name == "fts3_tokenizer") return "it reads and registers raw native pointers";
  if (name == "json_patch") return "it runs in quadratic time inside one uninterruptible step";
  return "";
}

std::string_view ActionName(int action) {
  switch (action) {
    case SQLITE_INSERT:
      return "INSERT";
    case SQLITE_UPDATE:
      return "UPDATE";
    case SQLITE_DELETE:
      return "DELETE";
    case SQLITE_ATTACH:
      return "ATTACH";
    case SQLITE_DETACH:
      return "DETACH";
    case SQLITE_ALTER_TABLE:
      return "ALTER TABLE";
    case SQLITE_REINDEX:
      return "REINDEX";
    case SQLITE_ANALYZE:
      return "ANALYZE";
    case SQLITE_TRANSACTION:
      return "a transaction statement (BEGIN/COMMIT/ROLLBACK)";
    case SQLITE_SAVEPOINT:
      return "SAVEPOINT";
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_VTABLE:
      return "CREATE";
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TEMP_TABLE:
    case SQLITE_DROP_TEMP_TRIGGER:
    case SQLITE_DROP_TEMP_VIEW:
    case SQLITE_DROP_TRIGGER:
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_VTABLE:
      return "DROP";
    default:
      return "a statement that is not a read";
  }
}

std::string Lower(const char* s) {
  std::string out = s ? s : "";
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

template <size_t N>
bool Contains(const std::array<std::string_view, N>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

}  // namespace

bool IsAllowedPragma(const std::string& name, const char* arg) {
  if (Contains(kIntrospectionPragmas, name)) return true;
  return arg == nullptr && Contains(kValuePragmas, name);
}

bool IsAllowedFunction(const std::string& name) {
  return std::find(std::begin(kAllowedFunctions), std::end(kAllowedFunctions), name) !=
         std::end(kAllowedFunctions);
}

std::vector<std::string> AllowedVirtualTables() {
  std::vector<std::string> out = {"json_each", "json_tree", "dbstat"};
  for (auto name : kIntrospectionPragmas) out.push_back("pragma_" + std::string(name));
  for (auto name : kValuePragmas) out.push_back("pragma_" + std::string(name));
  return out;
}

int AuthorizeReadOnly(int action, const char* arg1, const char* arg2, std::string* why) {
  switch (action) {
    case SQLITE_READ:
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION: {
      std::string name = Lower(arg2);
      if (IsAllowedFunction(name)) return SQLITE_OK;
      std::string_view reason = RefusalReason(name);
      *why =
          reason.empty()
              ? fmt::format("function {}() is not on the allow-list of read-only functions", name)
              : fmt::format("function {}() is not allowed: {}", name, reason);
      return SQLITE_DENY;
    }
    case SQLITE_PRAGMA: {
      std::string name = Lower(arg1);
      if (IsAllowedPragma(name, arg2)) return SQLITE_OK;
      *why =
          arg2 ? fmt::format("PRAGMA {} = {} is not allowed (pragmas may only be read)", name, arg2)
               : fmt::format("PRAGMA {} is not on the read-only allow-list", name);
      return SQLITE_DENY;
    }
    default:
      break;
  }
  std::string_view what = ActionName(action);
  if (action == SQLITE_UPDATE && Lower(arg1) == "sqlite_master") {
    // Also what a table-valued pragma function outside the allow-list looks like.
    // Also what the first use of a virtual table (table-valued function) looks like: SQLite
    // builds it with a schema check. ReadOnlyDb builds the allowed ones before it installs the
    // authorizer, so only the others get here.
    *why =
        "writing the schema, or a virtual table or table-valued function that is not on the "
        "allow-list (json_each, json_tree, dbstat and the read-only pragma_* functions)";
    return SQLITE_DENY;
  }
  if (arg1 && (action == SQLITE_INSERT || action == SQLITE_UPDATE || action == SQLITE_DELETE)) {
    *why = fmt::format("{} on table {} is not allowed", what, arg1);
  } else {
    *why = fmt::format("{} is not allowed", what);
  }
  return SQLITE_DENY;
}

}  // namespace cistern::mcp
