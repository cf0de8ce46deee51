// The authorizer policy of ReadOnlyDb (see readonly_db.h): which SQLite actions a cistern-mcp
// statement may perform. Pure functions; safe from any thread.
#pragma once

#include <string>
#include <vector>

namespace cistern::mcp {

// Decides one sqlite3_set_authorizer callback. Returns SQLITE_OK for reads (SELECT, READ,
// recursive CTEs), the functions of IsAllowedFunction, and the read-only pragmas of
// IsAllowedPragma; SQLITE_DENY for everything else, with `*why` set to a sentence naming the
// refused action (e.g. "DELETE on table events", "function fts3_tokenizer() is not ...").
int AuthorizeReadOnly(int action, const char* arg1, const char* arg2, std::string* why);

// True for the (lower-case) names of the functions a statement may call: core scalar, math,
// date/time, JSON, aggregate and window functions (docs/mcp.md has the list). Not, among
// others: load_extension, fts3_tokenizer, printf/format, json_patch, the FTS and R-Tree ones.
bool IsAllowedFunction(const std::string& name);

// The virtual tables a statement may read: json_each, json_tree, dbstat and the pragma_*
// functions of the allowed pragmas. SQLite checks UPDATE on sqlite_master the first time a
// connection uses a virtual table (while it builds the eponymous table, which it then keeps):
// ReadOnlyDb builds these once before it installs the authorizer, and the authorizer refuses
// that check, so every other virtual table is refused at its first use.
std::vector<std::string> AllowedVirtualTables();

// True for the pragmas an operator may run: introspection pragmas that take a table or index
// name (table_info, index_list, ...), and value pragmas only when read (no `= value`,
// signalled by a null `arg`).
bool IsAllowedPragma(const std::string& name, const char* arg);

}  // namespace cistern::mcp
