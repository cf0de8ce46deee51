// Interruptible versions of SQLite's quadratic string functions for ReadOnlyDb.
//
// SQLite interrupts a statement (progress handler, sqlite3_interrupt) only between virtual
// machine instructions, never inside a function call. instr(h, n) and replace(x, p, r) compare
// the pattern at every position of the string, and trim/ltrim/rtrim(x, set) compare every
// character of the set at every trimmed position: with two values of a few hundred kilobytes
// one call runs for minutes. The versions registered here give the same results as SQLite's
// (same rules for NULL, BLOB and TEXT arguments, byte-wise matching, UTF-8 character counts)
// and look at the query's deadline while they work: past it, the call fails with
// SQLITE_INTERRUPT and sets `timed_out`, which ReadOnlyDb reports as a timeout.
// Thread-safety: the functions run on the thread that steps the statement; QueryClock is
// owned by the connection's single owner thread.
#pragma once

#include <sqlite3.h>

#include <chrono>

#include "common/status.h"

namespace cistern::mcp {

// The deadline of the statement that is running, set by ReadOnlyDb before each query.
struct QueryClock {
  std::chrono::steady_clock::time_point deadline;
  bool timed_out = false;  // set when a check found the deadline passed
  // True (and timed_out set) once the deadline has passed.
  bool Expired();
};

// Registers instr/2, replace/3, trim/2, ltrim/2 and rtrim/2 on `db` (the one-argument trims
// stay SQLite's: they are linear). `clock` must outlive `db`. Errors: Internal naming the
// function SQLite refused to register.
Status RegisterInterruptibleFunctions(sqlite3* db, QueryClock* clock);

}  // namespace cistern::mcp
