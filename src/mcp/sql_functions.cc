#include "mcp/sql_functions.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace cistern::mcp {
namespace {

// How many bytes are compared between two looks at the clock (a few milliseconds of work).
constexpr int64_t kWorkBetweenChecks = int64_t{1} << 24;

// Counts work and looks at the clock every kWorkBetweenChecks units.
class WorkMeter {
 public:
  explicit WorkMeter(QueryClock* clock) : clock_(clock) {}
  // Adds `units`; true when the deadline has passed.
  bool Add(int64_t units) {
    done_ += units;
    if (done_ < kWorkBetweenChecks) return false;
    done_ = 0;
    return clock_->Expired();
  }

 private:
  QueryClock* clock_;
  int64_t done_ = 0;
};

// What a registered function is handed as its user data.
struct FunctionData {
  QueryClock* clock;
  int sides;  // trim only: 1 leading, 2 trailing, 3 both
};

QueryClock* ClockOf(sqlite3_context* ctx) {
  return static_cast<FunctionData*>(sqlite3_user_data(ctx))->clock;
}

void Interrupted(sqlite3_context* ctx) {
  sqlite3_result_error(ctx, "interrupted", -1);
  sqlite3_result_error_code(ctx, SQLITE_INTERRUPT);
}

std::string_view TextOf(sqlite3_value* v) {
  auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
  return p ? std::string_view(p, sqlite3_value_bytes(v)) : std::string_view();
}

std::string_view BlobOf(sqlite3_value* v) {
  auto* p = static_cast<const char*>(sqlite3_value_blob(v));
  return p ? std::string_view(p, sqlite3_value_bytes(v)) : std::string_view();
}

// instr(haystack, needle): 1 + the characters (bytes, when both are BLOBs) before the first
// occurrence of needle, 0 when there is none, NULL when either is NULL. An empty needle is
// found at 1. A BLOB beside a TEXT is read as TEXT.
void Instr(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const int th = sqlite3_value_type(argv[0]);
  const int tn = sqlite3_value_type(argv[1]);
  if (th == SQLITE_NULL || tn == SQLITE_NULL) return;
  const bool is_text = !(th == SQLITE_BLOB && tn == SQLITE_BLOB);
  std::string_view needle = is_text && tn != SQLITE_BLOB ? TextOf(argv[1]) : BlobOf(argv[1]);
  if (needle.empty()) {
    sqlite3_result_int(ctx, 1);
    return;
  }
  std::string_view hay = is_text && th != SQLITE_BLOB ? TextOf(argv[0]) : BlobOf(argv[0]);
  WorkMeter meter(ClockOf(ctx));
  int64_t n = 1;
  size_t at = 0;
  while (needle.size() <= hay.size() - at) {
    if (hay[at] == needle[0]) {
      if (std::memcmp(hay.data() + at, needle.data(), needle.size()) == 0) {
        sqlite3_result_int64(ctx, n);
        return;
      }
      if (meter.Add(static_cast<int64_t>(needle.size()))) return Interrupted(ctx);
    }
    ++n;
    do {
      ++at;
    } while (is_text && at < hay.size() && (static_cast<uint8_t>(hay[at]) & 0xC0) == 0x80);
  }
  sqlite3_result_int(ctx, 0);
}

// replace(x, pattern, replacement): x as TEXT with every non-overlapping occurrence of pattern
// (byte-wise, left to right) replaced. NULL when any argument is NULL; x itself (any type)
// when pattern is empty or starts with a NUL byte.
void Replace(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  std::string_view str = TextOf(argv[0]);
  if (sqlite3_value_type(argv[1]) == SQLITE_NULL) return;
  std::string_view pattern = TextOf(argv[1]);
  if (pattern.empty() || pattern[0] == '\0') {
    sqlite3_result_value(ctx, argv[0]);
    return;
  }
  if (sqlite3_value_type(argv[2]) == SQLITE_NULL) return;
  std::string_view rep = TextOf(argv[2]);
  const int64_t max_len = sqlite3_limit(sqlite3_context_db_handle(ctx), SQLITE_LIMIT_LENGTH, -1);
  WorkMeter meter(ClockOf(ctx));
  std::string out;
  out.reserve(str.size());
  size_t i = 0;
  while (pattern.size() <= str.size() - i) {
    if (str[i] == pattern[0]) {
      if (std::memcmp(str.data() + i, pattern.data(), pattern.size()) == 0) {
        out.append(rep);
        if (static_cast<int64_t>(out.size()) > max_len) {
          sqlite3_result_error_toobig(ctx);
          return;
        }
        i += pattern.size();
        continue;
      }
      if (meter.Add(static_cast<int64_t>(pattern.size()))) return Interrupted(ctx);
    }
    out.push_back(str[i++]);
  }
  out.append(str.substr(i));
  if (static_cast<int64_t>(out.size()) > max_len) {
    sqlite3_result_error_toobig(ctx);
    return;
  }
  sqlite3_result_text64(ctx, out.data(), out.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

// trim/ltrim/rtrim(x, set): x as TEXT without the leading (ltrim), trailing (rtrim) or both
// (trim) characters that are in `set`. The set is read as UTF-8 characters up to its first NUL
// byte (a lead byte and the continuation bytes after it); at each position the first character
// of the set that matches there is removed. NULL when x or set is NULL; x as TEXT when the set
// is empty.
void Trim(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  std::string_view in = TextOf(argv[0]);
  if (sqlite3_value_type(argv[1]) == SQLITE_NULL) return;
  auto* set = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
  if (set == nullptr) return;
  std::vector<std::string_view> chars;
  for (const char* z = set; *z;) {
    const char* start = z;
    if (static_cast<uint8_t>(*z++) >= 0xC0) {
      while ((static_cast<uint8_t>(*z) & 0xC0) == 0x80) ++z;
    }
    chars.emplace_back(start, static_cast<size_t>(z - start));
  }
  const int sides = static_cast<FunctionData*>(sqlite3_user_data(ctx))->sides;
  WorkMeter meter(ClockOf(ctx));
  const auto work = static_cast<int64_t>(chars.size());
  // The length of the first character of the set found at the start (end) of `in`, or 0.
  auto match = [&](bool at_end) -> size_t {
    for (std::string_view c : chars) {
      if (c.size() > in.size()) continue;
      const char* at = at_end ? in.data() + in.size() - c.size() : in.data();
      if (std::memcmp(at, c.data(), c.size()) == 0) return c.size();
    }
    return 0;
  };
  if (!chars.empty()) {
    if (sides & 1) {
      while (!in.empty()) {
        if (meter.Add(work)) return Interrupted(ctx);
        size_t len = match(false);
        if (len == 0) break;
        in.remove_prefix(len);
      }
    }
    if (sides & 2) {
      while (!in.empty()) {
        if (meter.Add(work)) return Interrupted(ctx);
        size_t len = match(true);
        if (len == 0) break;
        in.remove_suffix(len);
      }
    }
  }
  sqlite3_result_text64(ctx, in.data(), in.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

}  // namespace

bool QueryClock::Expired() {
  if (std::chrono::steady_clock::now() < deadline) return false;
  timed_out = true;
  return true;
}

Status RegisterInterruptibleFunctions(sqlite3* db, QueryClock* clock) {
  struct Def {
    const char* name;
    int args;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
    int sides;
  };
  constexpr Def kDefs[] = {{"instr", 2, Instr, 0},
                           {"replace", 3, Replace, 0},
                           {"trim", 2, Trim, 3},
                           {"ltrim", 2, Trim, 1},
                           {"rtrim", 2, Trim, 2}};
  for (const Def& d : kDefs) {
    auto* data = new FunctionData{clock, d.sides};
    // SQLITE_INNOCUOUS like SQLite's own: usable in views of an untrusted schema.
    int rc = sqlite3_create_function_v2(
        db, d.name, d.args, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, data, d.fn,
        nullptr, nullptr, [](void* p) { delete static_cast<FunctionData*>(p); });
    if (rc != SQLITE_OK) {
      return Status::Internal(std::string("cannot register ") + d.name + ": " + sqlite3_errstr(rc));
    }
  }
  return Status::Ok();
}

}  // namespace cistern::mcp
