// The end-of-run checks of the HTTP load: what the collector says (GET /stats) and what is
// on disk (the SQLite file, read directly).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tools/loadgen/http_conn.h"

namespace cistern::loadgen {

struct StatsProbe {
  bool ok = false;
  int64_t events_written = 0;  // /store/events_written: the collector's id high-water mark
  std::string error;           // when !ok: unreachable, a non-200, or no such field
};

// GET /stats on a fresh connection (TLS and admin token as `conn` says), bounded by
// `timeout` in total. Blocks the caller.
StatsProbe FetchEventsWritten(const HttpConn& conn, std::chrono::milliseconds timeout);

struct DbCheck {
  bool ok = false;      // ran, and every id was found
  int64_t checked = 0;  // ids looked for
  int64_t missing = 0;  // of those, not in events
  int64_t first_missing = 0;
  int64_t rows_in_range = 0;  // rows with min(ids) <= id <= max(ids)
  std::string error;          // the database could not be read
};

// Opens `db_path` read-only (its own connection; fine on a live WAL database) and checks
// that every id in `ids` is a row of `events`, in one ordered range scan.
// REQUIRES: ids sorted ascending without duplicates.
DbCheck VerifyIdsInDb(const std::string& db_path, const std::vector<int64_t>& ids);

}  // namespace cistern::loadgen
