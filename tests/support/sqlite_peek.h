// Reads a database the way an operator would, through its own read-only SQLite connection,
// so tests check what is really on disk rather than what the server says.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cistern::testing {

// Runs a query returning one integer. Fails the calling test (ADD_FAILURE) and returns -1 on
// error.
int64_t QueryInt(const std::string& db_path, const std::string& sql);

// Runs a query and returns the rows, each column as text (NULL -> "NULL").
std::vector<std::vector<std::string>> QueryRows(const std::string& db_path, const std::string& sql);

// Runs statements that change the file behind the collector's back (it must be stopped), as
// a crash or an operator would leave it. On error: ADD_FAILURE with SQLite's message, false.
bool ExecSql(const std::string& db_path, const std::string& sql);

// count(*) of events; -1 on error.
inline int64_t CountEvents(const std::string& db_path) {
  return QueryInt(db_path, "SELECT count(*) FROM events");
}

}  // namespace cistern::testing
