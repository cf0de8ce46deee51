#include "store/lifecycle.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/clock.h"

namespace cistern {
namespace {

// Steps a statement that returns no rows (or whose rows do not matter) and resets it.
int StepDone(sql::Stmt& s) {
  int rc = sqlite3_step(s.handle());
  sqlite3_reset(s.handle());
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

// Steps a statement returning one integer (0 for no row or NULL) and resets it.
int StepInt(sql::Stmt& s, int64_t* out) {
  int rc = sqlite3_step(s.handle());
  *out = rc == SQLITE_ROW ? sqlite3_column_int64(s.handle(), 0) : 0;
  sqlite3_reset(s.handle());
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

void BindText(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

// Two failure messages describe the same failure when they differ only in numbers
// ("... after 0 ms" and "... after 1 ms"; a port, a byte count).
bool SameFailure(std::string_view a, std::string_view b) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      while (i < a.size() && digit(a[i])) ++i;
      while (j < b.size() && digit(b[j])) ++j;
      continue;
    }
    if (a[i] != b[j]) return false;
    ++i;
    ++j;
  }
  return i == a.size() && j == b.size();
}

DeviceDelta& DeltaOf(TxnEffects* fx, std::string_view device) {
  auto it = fx->devices.find(device);
  if (it == fx->devices.end()) it = fx->devices.emplace(std::string(device), DeviceDelta{}).first;
  return it->second;
}

}  // namespace

Result<std::unique_ptr<Lifecycle>> Lifecycle::Prepare(sql::Db& db) {
  std::unique_ptr<Lifecycle> l(new Lifecycle(db));
  struct {
    std::unique_ptr<sql::Stmt>* stmt;
    const char* sql;
  } const kStatements[] = {
      {&l->insert_,
       "INSERT INTO event_log(id, device_id, kind, payload_json, ts) VALUES(?1, ?2, ?3, ?4, ?5)"},
      {&l->scan_,
       "SELECT id, device_id, kind, payload_json FROM event_log WHERE id > ?1 AND id <= ?2 "
       "ORDER BY id LIMIT 256"},
      {&l->delete_range_, "DELETE FROM event_log WHERE id > ?1 AND id <= ?2"},
      {&l->put_meta_,
       "INSERT INTO meta(key, value) VALUES(?1, ?2) "
       "ON CONFLICT(key) DO UPDATE SET value = excluded.value"},
      {&l->device_update_,
       "UPDATE devices SET pending = pending + ?2, last_seen_at = "
       "CASE WHEN ?3 > coalesce(last_seen_at, 0) THEN ?3 ELSE last_seen_at END WHERE id = ?1"},
      {&l->device_insert_,
       "INSERT INTO devices(device_key, label, last_seen_at, pending) "
       "VALUES(?1, ?1, nullif(?2, 0), ?3) ON CONFLICT(device_key) DO UPDATE SET "
       "pending = pending + excluded.pending, last_seen_at = CASE WHEN "
       "excluded.last_seen_at > coalesce(last_seen_at, 0) THEN excluded.last_seen_at "
       "ELSE last_seen_at END RETURNING id"},
      {&l->run_ok_,
       "INSERT INTO upload_runs(started_at, finished_at, event_count, status, first_id, "
       "last_id) VALUES(?1, ?2, ?3, 'ok', ?4, ?5)"},
      {&l->run_error_,
       "INSERT INTO upload_runs(started_at, finished_at, event_count, status, error) "
       "VALUES(?1, ?2, ?3, 'error', ?4)"},
      {&l->run_fold_,
       "UPDATE upload_runs SET finished_at = ?2, event_count = ?3, error = ?4, "
       "attempts = attempts + 1 WHERE id = ?1"},
      // ok runs finish in id order, so the newest one shipped by the cutoff bounds what
      // retention may delete (served by the partial index upload_runs_time).
      {&l->shipped_before_,
       "SELECT last_id FROM upload_runs WHERE status = 'ok' AND finished_at <= ?1 "
       "ORDER BY finished_at DESC LIMIT 1"},
      {&l->keep_runs_from_, "SELECT id FROM upload_runs ORDER BY id DESC LIMIT 1 OFFSET 99"},
      // The oldest runs first, a bounded number per call: failures past the cutoff, and ok
      // runs whose events are all gone. The newest 100 runs always stay.
      {&l->delete_runs_,
       "DELETE FROM upload_runs WHERE id IN (SELECT id FROM (SELECT id, status, finished_at, "
       "last_id FROM upload_runs WHERE id < ?1 ORDER BY id LIMIT 500) WHERE finished_at <= ?2 "
       "AND (status <> 'ok' OR last_id < ?3))"},
      {&l->update_payload_, "UPDATE event_log SET payload_json = ?1 WHERE id = ?2"},
      {&l->page_count_, "PRAGMA page_count"},
      {&l->freelist_count_, "PRAGMA freelist_count"},
  };
  for (const auto& [stmt, text] : kStatements) {
    auto prepared = db.Prepare(text);
    if (!prepared.ok()) return prepared.status();
    *stmt = std::move(prepared.value());
  }
  auto receipts = Receipts::Prepare(db);
  if (!receipts.ok()) return receipts.status();
  l->receipts_ = std::move(receipts.value());
  auto page_size = db.QueryInt("PRAGMA page_size", 4096);
  if (!page_size.ok()) return page_size.status();
  l->page_size_ = *page_size;
  return l;
}

Result<int64_t> Lifecycle::UsedBytes() {
  int64_t pages = 0, free_pages = 0;
  if (int rc = StepInt(*page_count_, &pages); rc != SQLITE_OK) {
    return sql::MapError(rc, db_.handle(), "page_count");
  }
  if (int rc = StepInt(*freelist_count_, &free_pages); rc != SQLITE_OK) {
    return sql::MapError(rc, db_.handle(), "freelist_count");
  }
  return (pages - free_pages) * page_size_;
}

Status Lifecycle::Load(BufferState* s, StoreCounters* c) {
  auto q = [&](const std::string& text, int64_t fallback) { return db_.QueryInt(text, fallback); };
  auto max_id = q("SELECT max(id) FROM event_log", 0);
  auto high = q("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'id_high_water'", 0);
  auto cursor = q("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'upload_cursor'", 0);
  for (auto* r : {&max_id, &high, &cursor}) {
    if (!r->ok()) return r->status();
  }
  const int64_t last = std::max(*max_id, *high);
  auto min_id = q("SELECT min(id) FROM event_log", last + 1);
  if (!min_id.ok()) return min_id.status();
  s->next_id = last + 1;
  s->cursor = *cursor;
  s->min_id = *min_id;
  s->dropped_through = *cursor;
  s->high_water_saved = *high;

  auto read_devices = [&]() -> Result<int64_t> {
    s->device_rows.clear();
    auto rows = db_.Prepare("SELECT id, device_key, pending FROM devices");
    if (!rows.ok()) return rows.status();
    int64_t pending = 0;
    for (;;) {
      auto row = (*rows)->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      s->device_rows.emplace((*rows)->ColumnText(1), (*rows)->ColumnInt(0));
      pending += (*rows)->ColumnInt(2);
    }
    return pending;
  };
  auto backlog = read_devices();
  if (!backlog.ok()) return backlog.status();
  // Cheap checks that the maintained counts describe the table: ids are dense, so the
  // pending events cannot outnumber the ids between the oldest pending row and the newest
  // row (two B-tree descents). Rows deleted by hand at either end are caught this way.
  auto first_pending = q(fmt::format("SELECT min(id) FROM event_log WHERE id > {}", *cursor), 0);
  if (!first_pending.ok()) return first_pending.status();
  const int64_t room = *first_pending == 0 ? 0 : *max_id - *first_pending + 1;
  if (*backlog < 0 || *backlog > room || (*backlog > 0) != (room > 0)) {
    spdlog::warn("the devices' pending counts ({}) do not match the events table; recounting",
                 *backlog);
    if (int rc = Recount(s, *cursor); rc != SQLITE_OK) {
      return sql::MapError(rc, db_.handle(), "recount pending events");
    }
    backlog = read_devices();
    if (!backlog.ok()) return backlog.status();
  }
  s->backlog = *backlog;

  auto run = db_.Prepare("SELECT id, status, error FROM upload_runs ORDER BY id DESC LIMIT 1");
  if (!run.ok()) return run.status();
  auto row = (*run)->Step();
  if (!row.ok()) return row.status();
  if (*row) {
    s->last_run.row_id = (*run)->ColumnInt(0);
    s->last_run.failed = (*run)->ColumnText(1) != "ok";
    s->last_run.error = std::string((*run)->ColumnText(2));
  }
  auto used = UsedBytes();
  if (!used.ok()) return used.status();
  s->used_bytes = *used;

  c->events_written = last;
  c->backlog = s->backlog;
  c->admitted = s->backlog;
  c->devices_seen = static_cast<int64_t>(s->device_rows.size());
  c->used_bytes = s->used_bytes;
  c->shipped_events = std::max<int64_t>(0, *cursor - s->min_id + 1);
  return Status::Ok();
}

int Lifecycle::Recount(BufferState* s, int64_t cursor) {
  std::string sql = fmt::format(
      "BEGIN IMMEDIATE; UPDATE devices SET pending = 0; "
      "INSERT INTO devices(device_key, label, pending) SELECT device_id, device_id, count(*) "
      "FROM event_log WHERE id > {} GROUP BY device_id "
      "ON CONFLICT(device_key) DO UPDATE SET pending = excluded.pending; COMMIT;",
      cursor);
  int rc = sqlite3_exec(db_.handle(), sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK && !sqlite3_get_autocommit(db_.handle())) {
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  return rc;
}

int Lifecycle::Insert(const EventBatch& batch, int64_t now_ms, TxnEffects* fx) {
  sqlite3_stmt* ins = insert_->handle();
  int64_t id = fx->next_id;
  DeviceDelta* delta = nullptr;
  std::string_view delta_key;
  for (size_t i = 0; i < batch.size(); ++i, ++id) {
    EventView e = batch[i];
    sqlite3_bind_int64(ins, 1, id);
    BindText(ins, 2, e.device_id);
    BindText(ins, 3, e.kind);
    if (e.has_payload) {
      BindText(ins, 4, e.payload_json);
    } else {
      sqlite3_bind_null(ins, 4);
    }
    sqlite3_bind_int64(ins, 5, e.ts);
    int rc = sqlite3_step(ins);
    sqlite3_reset(ins);
    if (rc != SQLITE_DONE) return rc;
    if (delta == nullptr || e.device_id != delta_key) {
      delta = &DeltaOf(fx, e.device_id);  // element pointers survive rehashing
      delta_key = e.device_id;
    }
    delta->pending++;
    delta->last_seen_ms = now_ms;
    fx->used_bytes += BufferPolicy::EstimateBytes(e.device_id.size(), e.kind.size(),
                                                  e.has_payload ? e.payload_json.size() : 0);
  }
  const auto n = static_cast<int64_t>(batch.size());
  fx->next_id = id;
  fx->appended += n;
  fx->backlog += n;
  fx->requests++;
  return SQLITE_OK;
}

int Lifecycle::MakeRoom(const BufferPolicy& policy, int64_t events, int64_t bytes, TxnEffects* fx,
                        Status* refusal) {
  // Shipped events go first, whatever their age: they were delivered.
  if (int64_t over = policy.BytesOver(fx->used_bytes, bytes);
      over > 0 && fx->min_id <= fx->cursor) {
    if (int rc = DeleteOldest(fx->min_id - 1, fx->cursor, 0, over, false, fx); rc != SQLITE_OK) {
      return rc;
    }
  }
  int64_t over_bytes = policy.BytesOver(fx->used_bytes, bytes);
  int64_t over_events = policy.EventsOver(fx->backlog, events);
  if (over_bytes == 0 && over_events == 0) return SQLITE_OK;
  if (policy.evicts()) {
    // Only what the arriving request needs, and never an event of this transaction.
    int64_t after = std::max({fx->cursor, fx->dropped_through, fx->min_id - 1});
    int rc = DeleteOldest(after, fx->first_new_id - 1, over_events, over_bytes, true, fx);
    if (rc != SQLITE_OK) return rc;
    over_bytes = policy.BytesOver(fx->used_bytes, bytes);
    over_events = policy.EventsOver(fx->backlog, events);
    if (over_bytes == 0 && over_events == 0) return SQLITE_OK;
  }
  *refusal = policy.Refusal(fx->backlog, fx->used_bytes, events, bytes);
  return SQLITE_OK;
}

int Lifecycle::DeleteOldest(int64_t after, int64_t upto, int64_t events, int64_t bytes,
                            bool pending, TxnEffects* fx) {
  sqlite3_stmt* scan = scan_->handle();
  int64_t count = 0, freed = 0, last = after;
  while ((count < events || freed < bytes) && last < upto) {
    sqlite3_bind_int64(scan, 1, last);
    sqlite3_bind_int64(scan, 2, upto);
    int rows = 0, rc;
    while ((rc = sqlite3_step(scan)) == SQLITE_ROW) {
      ++rows;
      last = sqlite3_column_int64(scan, 0);
      const auto* device = reinterpret_cast<const char*>(sqlite3_column_text(scan, 1));
      size_t device_len = static_cast<size_t>(sqlite3_column_bytes(scan, 1));
      freed += BufferPolicy::EstimateBytes(device_len, sqlite3_column_bytes(scan, 2),
                                           sqlite3_column_bytes(scan, 3));
      ++count;
      if (pending) DeltaOf(fx, std::string_view(device, device_len)).pending--;
      if (count >= events && freed >= bytes) break;
    }
    sqlite3_reset(scan);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rc;
    if (rows == 0) break;
  }
  if (count == 0) return SQLITE_OK;
  sqlite3_bind_int64(delete_range_->handle(), 1, after);
  sqlite3_bind_int64(delete_range_->handle(), 2, last);
  if (int rc = StepDone(*delete_range_); rc != SQLITE_OK) return rc;
  const int64_t deleted = sqlite3_changes(db_.handle());
  if (pending) {
    fx->evicted += deleted;
    fx->backlog -= deleted;
    fx->dropped_through = std::max(fx->dropped_through, last);
  } else {
    fx->pruned += deleted;
  }
  fx->deleted = true;
  fx->used_bytes -= freed;
  if (after < fx->min_id) fx->min_id = std::max(fx->min_id, last + 1);  // the head went
  return SQLITE_OK;
}

int Lifecycle::Run(const LifecycleOp& op, TxnEffects* fx, OpResult* result) {
  return std::visit(
      [&](const auto& o) -> int {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, MarkUploadedOp>) {
          return MarkUploaded(o, fx, result);
        } else if constexpr (std::is_same_v<T, FailedRunOp>) {
          return RecordFailedRun(o, fx);
        } else if constexpr (std::is_same_v<T, RetainOp>) {
          return Retain(o, fx, result);
        } else if constexpr (std::is_same_v<T, UpdatePayloadsOp>) {
          return UpdatePayloads(o, result);
        } else if constexpr (std::is_same_v<T, OpenSessionOp>) {
          return receipts_->OpenSession(o, UnixMillis(), result);
        } else if constexpr (std::is_same_v<T, CloseSessionOp>) {
          return receipts_->CloseSession(o, UnixMillis());
        } else {
          return receipts_->Release(o);
        }
      },
      op);
}

int Lifecycle::MarkUploaded(const MarkUploadedOp& op, TxnEffects* fx, OpResult* result) {
  const UploadBatch& b = *op.batch;
  if (b.empty() || b.last_id() <= fx->cursor) return SQLITE_OK;  // nothing new to mark
  if (b.last_id() >= fx->next_id) {
    result->status = Status::InvalidArgument(
        fmt::format("cannot mark events up to id {} uploaded: ids from {} were never committed",
                    b.last_id(), fx->next_id));
    return SQLITE_OK;
  }
  // Events the writer evicted while the batch was being shipped are no longer pending.
  const int64_t from = std::max(fx->cursor, fx->dropped_through);
  int64_t shipped = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    if (b.ids[i] <= from) continue;
    DeltaOf(fx, b.events[i].device_id).pending--;
    ++shipped;
  }
  sqlite3_stmt* run = run_ok_->handle();
  sqlite3_bind_int64(run, 1, op.started_ms);
  sqlite3_bind_int64(run, 2, op.finished_ms);
  sqlite3_bind_int64(run, 3, static_cast<int64_t>(b.size()));
  sqlite3_bind_int64(run, 4, fx->cursor + 1);  // runs tile the id space
  sqlite3_bind_int64(run, 5, b.last_id());
  if (int rc = StepDone(*run_ok_); rc != SQLITE_OK) return rc;
  fx->last_run = LastRun{sqlite3_last_insert_rowid(db_.handle()), false, ""};
  if (int rc = PutMeta("upload_cursor", b.last_id()); rc != SQLITE_OK) return rc;
  fx->cursor = b.last_id();
  fx->shipped += shipped;
  fx->backlog -= shipped;
  result->count = shipped;
  return SQLITE_OK;
}

int Lifecycle::RecordFailedRun(const FailedRunOp& op, TxnEffects* fx) {
  if (fx->last_run.row_id != 0 && fx->last_run.failed &&
      SameFailure(fx->last_run.error, op.error)) {
    sqlite3_stmt* fold = run_fold_->handle();
    sqlite3_bind_int64(fold, 1, fx->last_run.row_id);
    sqlite3_bind_int64(fold, 2, op.finished_ms);
    sqlite3_bind_int64(fold, 3, op.events);
    BindText(fold, 4, op.error);  // the latest wording
    if (int rc = StepDone(*run_fold_); rc != SQLITE_OK) return rc;
    fx->last_run.error = op.error;
    return SQLITE_OK;
  }
  sqlite3_stmt* run = run_error_->handle();
  sqlite3_bind_int64(run, 1, op.started_ms);
  sqlite3_bind_int64(run, 2, op.finished_ms);
  sqlite3_bind_int64(run, 3, op.events);
  BindText(run, 4, op.error);
  if (int rc = StepDone(*run_error_); rc != SQLITE_OK) return rc;
  fx->last_run = LastRun{sqlite3_last_insert_rowid(db_.handle()), true, op.error};
  return SQLITE_OK;
}

int Lifecycle::Retain(const RetainOp& op, TxnEffects* fx, OpResult* result) {
  int64_t shipped_by_cutoff = 0;
  sqlite3_bind_int64(shipped_before_->handle(), 1, op.cutoff_ms);
  if (int rc = StepInt(*shipped_before_, &shipped_by_cutoff); rc != SQLITE_OK) return rc;
  const int64_t target = std::min(shipped_by_cutoff, fx->cursor);
  const int64_t upto = std::min(target, fx->min_id + op.chunk - 1);
  if (upto >= fx->min_id) {
    sqlite3_bind_int64(delete_range_->handle(), 1, fx->min_id - 1);
    sqlite3_bind_int64(delete_range_->handle(), 2, upto);
    if (int rc = StepDone(*delete_range_); rc != SQLITE_OK) return rc;
    const int64_t deleted = sqlite3_changes(db_.handle());
    fx->pruned += deleted;
    fx->deleted = fx->deleted || deleted > 0;
    fx->min_id = upto + 1;
    result->count = deleted;
  }
  result->more = upto < target;
  int64_t keep_from = 0;
  if (int rc = StepInt(*keep_runs_from_, &keep_from); rc != SQLITE_OK) return rc;
  if (keep_from > 0) {
    sqlite3_stmt* del = delete_runs_->handle();
    sqlite3_bind_int64(del, 1, keep_from);
    sqlite3_bind_int64(del, 2, op.cutoff_ms);
    sqlite3_bind_int64(del, 3, fx->min_id);
    if (int rc = StepDone(*delete_runs_); rc != SQLITE_OK) return rc;
  }
  return receipts_->ExpireSessions(UnixMillis());
}

int Lifecycle::UpdatePayloads(const UpdatePayloadsOp& op, OpResult* result) {
  sqlite3_stmt* upd = update_payload_->handle();
  for (const auto& [id, payload] : op.updates) {
    BindText(upd, 1, payload);
    sqlite3_bind_int64(upd, 2, id);
    if (int rc = StepDone(*update_payload_); rc != SQLITE_OK) return rc;
    result->count += sqlite3_changes(db_.handle());
  }
  return SQLITE_OK;
}

int Lifecycle::PutMeta(const char* key, int64_t value) {
  std::string text = std::to_string(value);
  BindText(put_meta_->handle(), 1, key);
  BindText(put_meta_->handle(), 2, text);
  return StepDone(*put_meta_);
}

int Lifecycle::Finish(const BufferState& state, TxnEffects* fx) {
  for (const auto& [key, d] : fx->devices) {
    if (d.pending == 0 && d.last_seen_ms == 0) continue;
    int64_t row = 0;
    if (auto it = state.device_rows.find(key); it != state.device_rows.end()) {
      row = it->second;
    } else if (auto nit = fx->new_device_rows.find(key); nit != fx->new_device_rows.end()) {
      row = nit->second;
    }
    if (row != 0) {
      sqlite3_stmt* upd = device_update_->handle();
      sqlite3_bind_int64(upd, 1, row);
      sqlite3_bind_int64(upd, 2, d.pending);
      sqlite3_bind_int64(upd, 3, d.last_seen_ms);
      if (int rc = StepDone(*device_update_); rc != SQLITE_OK) return rc;
      continue;
    }
    sqlite3_stmt* ins = device_insert_->handle();
    BindText(ins, 1, key);
    sqlite3_bind_int64(ins, 2, d.last_seen_ms);
    sqlite3_bind_int64(ins, 3, d.pending);
    int rc = sqlite3_step(ins);
    if (rc == SQLITE_ROW) row = sqlite3_column_int64(ins, 0);
    while (rc == SQLITE_ROW) rc = sqlite3_step(ins);
    sqlite3_reset(ins);
    if (rc != SQLITE_DONE) return rc;
    fx->new_device_rows.emplace(key, row);
  }
  fx->devices.clear();
  if (fx->deleted && fx->high_water < fx->next_id - 1) {
    if (int rc = PutMeta("id_high_water", fx->next_id - 1); rc != SQLITE_OK) return rc;
    fx->high_water = fx->next_id - 1;
  }
  return SQLITE_OK;
}

}  // namespace cistern
