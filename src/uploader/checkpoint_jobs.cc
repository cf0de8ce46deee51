#include "uploader/checkpoint_jobs.h"

#include <map>
#include <string_view>

namespace cistern {

Job MarkUploadedJob(const UploadBatch& batch, int64_t started_ms, int64_t now_ms,
                    std::shared_ptr<int64_t> marked) {
  return [&batch, started_ms, now_ms, marked](sql::Db& db) -> Status {
    auto mark = db.Prepare(
        "UPDATE events SET uploaded_at = ?1 WHERE id BETWEEN ?2 AND ?3 AND uploaded_at IS NULL");
    if (!mark.ok()) return mark.status();
    (*mark)->BindInt(1, now_ms);
    (*mark)->BindInt(2, batch.first_id());
    (*mark)->BindInt(3, batch.last_id());
    if (Status s = (*mark)->Run(); !s.ok()) return s;
    *marked = sqlite3_changes(db.handle());

    std::map<std::string_view, int64_t> newest;  // device -> newest ts in the batch
    for (size_t i = 0; i < batch.size(); ++i) {
      EventView e = batch.events[i];
      auto [it, inserted] = newest.emplace(e.device_id, e.ts);
      if (!inserted && e.ts > it->second) it->second = e.ts;
    }
    auto upsert = db.Prepare(
        "INSERT INTO devices(device_key, label, last_seen_at) VALUES(?1, ?1, ?2) "
        "ON CONFLICT(device_key) DO UPDATE SET "
        "last_seen_at = max(coalesce(last_seen_at, 0), excluded.last_seen_at)");
    if (!upsert.ok()) return upsert.status();
    for (const auto& [device, ts] : newest) {
      (*upsert)->BindText(1, device);
      (*upsert)->BindInt(2, ts);
      if (Status s = (*upsert)->Run(); !s.ok()) return s;
    }
    auto run = db.Prepare(
        "INSERT INTO upload_runs(started_at, finished_at, event_count, status) "
        "VALUES(?1, ?2, ?3, 'ok')");
    if (!run.ok()) return run.status();
    (*run)->BindInt(1, started_ms);
    (*run)->BindInt(2, now_ms);
    (*run)->BindInt(3, static_cast<int64_t>(batch.size()));
    return (*run)->Run();
  };
}

Job FailedRunJob(int64_t started_ms, int64_t now_ms, int64_t event_count, std::string error) {
  return [=](sql::Db& db) -> Status {
    auto run = db.Prepare(
        "INSERT INTO upload_runs(started_at, finished_at, event_count, status, error) "
        "VALUES(?1, ?2, ?3, 'error', ?4)");
    if (!run.ok()) return run.status();
    (*run)->BindInt(1, started_ms);
    (*run)->BindInt(2, now_ms);
    (*run)->BindInt(3, event_count);
    (*run)->BindText(4, error);
    return (*run)->Run();
  };
}

Job RetentionJob(int64_t cutoff_ms, int64_t limit, std::shared_ptr<int64_t> deleted) {
  return [=](sql::Db& db) -> Status {
    *deleted = 0;
    auto head = db.Prepare("SELECT id, uploaded_at FROM events ORDER BY id LIMIT ?1");
    if (!head.ok()) return head.status();
    (*head)->BindInt(1, limit);
    int64_t first = 0, last = 0;
    for (;;) {
      auto row = (*head)->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      // Stop at the first pending or too-young event: the prune is a prefix of the head.
      if ((*head)->ColumnIsNull(1) || (*head)->ColumnInt(1) > cutoff_ms) break;
      if (first == 0) first = (*head)->ColumnInt(0);
      last = (*head)->ColumnInt(0);
    }
    head.value().reset();
    if (first == 0) return Status::Ok();
    auto del =
        db.Prepare("DELETE FROM events WHERE id BETWEEN ?1 AND ?2 AND uploaded_at IS NOT NULL");
    if (!del.ok()) return del.status();
    (*del)->BindInt(1, first);
    (*del)->BindInt(2, last);
    if (Status s = (*del)->Run(); !s.ok()) return s;
    *deleted = sqlite3_changes(db.handle());
    auto high = db.Prepare(
        "INSERT INTO meta(key, value) VALUES('id_high_water', ?1) ON CONFLICT(key) DO UPDATE "
        "SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))");
    if (!high.ok()) return high.status();
    (*high)->BindInt(1, last);
    return (*high)->Run();
  };
}

}  // namespace cistern
