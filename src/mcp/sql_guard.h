// The authorizer policy of ReadOnlyDb (see readonly_db.h): which SQLite actions a cistern-mcp
// statement may perform. Pure functions; safe from any thread.
#pragma once

#include <string>
#include <vector>

namespace cistern::mcp {

// Decides one sqlite3_set_authorizer callback. Returns SQLITE_OK for reads (SELECT, READ,
// recursive CTEs), functions other than load_extension, and the read-only pragmas of
// IsAllowedPragma; SQLITE_DENY for everything else, with `*why` set to a sentence naming the
// refused action (e.g. "DELETE on table events").
int AuthorizeReadOnly(int action, const char* arg1, const char* arg2, std::string* why);

// True for the pragmas an operator may run: introspection pragmas that take a table or index
// name (table_info, index_list, ...), and value pragmas only when read (no `= value`,
// signalled by a null `arg`).
bool IsAllowedPragma(const std::string& name, const char* arg);

// "pragma_<name>" for every allowed pragma. SQLite checks UPDATE on sqlite_master the first
// time a connection uses such a table-valued pragma function (while it builds the eponymous
// virtual table, which it then keeps): ReadOnlyDb prepares each once before it installs the
// authorizer, so the authorizer never has to allow that check.
std::vector<std::string> PragmaFunctionNames();

}  // namespace cistern::mcp
