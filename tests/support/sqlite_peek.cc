#include "support/sqlite_peek.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

namespace cistern::testing {

std::vector<std::vector<std::string>> QueryRows(const std::string& db_path,
                                                const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "open " << db_path << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return rows;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "prepare " << sql << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return rows;
  }
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const unsigned char* t = sqlite3_column_text(stmt, i);
      row.push_back(t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(stmt, i))
                      : "NULL");
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) ADD_FAILURE() << "step " << sql << ": " << sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

bool ExecSql(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  bool ok = sqlite3_open(db_path.c_str(), &db) == SQLITE_OK &&
            sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  if (!ok) ADD_FAILURE() << sql << " on " << db_path << ": " << sqlite3_errmsg(db);
  sqlite3_close(db);
  return ok;
}

int64_t QueryInt(const std::string& db_path, const std::string& sql) {
  auto rows = QueryRows(db_path, sql);
  if (rows.size() != 1 || rows[0].empty()) {
    ADD_FAILURE() << "expected one row from " << sql;
    return -1;
  }
  return rows[0][0] == "NULL" ? 0 : std::stoll(rows[0][0]);
}

}  // namespace cistern::testing
