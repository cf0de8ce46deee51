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

std::vector<std::string> PragmaFunctionNames() {
  std::vector<std::string> out;
  for (auto name : kIntrospectionPragmas) out.push_back("pragma_" + std::string(name));
  for (auto name : kValuePragmas) out.push_back("pragma_" + std::string(name));
  return out;
}

int AuthorizeReadOnly(int action, const char* arg1, const char* arg2, std::string* why) {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      // load_extension is also disabled on the connection; refuse it here too, by name.
      if (Lower(arg2) != "load_extension") return SQLITE_OK;
      *why = "load_extension() is not allowed";
      return SQLITE_DENY;
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
    *why = "writing the schema (or a pragma_* function not on the read-only allow-list)";
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
