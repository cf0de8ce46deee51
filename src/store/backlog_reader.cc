#include "store/backlog_reader.h"

#include "store/schema.h"

namespace cistern {

Result<std::unique_ptr<BacklogReader>> BacklogReader::Open(const std::string& path,
                                                           const std::atomic<int64_t>* cursor) {
  auto db = sql::Db::Open(path, sql::Db::Mode::kReadOnly);
  if (!db.ok()) return db.status();
  if (Status s = ConfigureReader(**db); !s.ok()) return s;
  auto select = (*db)->Prepare(
      "SELECT id, device_id, kind, payload_json, ts FROM event_log WHERE id > ?1 "
      "ORDER BY id LIMIT ?2");
  if (!select.ok()) return select.status();
  return std::unique_ptr<BacklogReader>(
      new BacklogReader(std::move(db.value()), std::move(select.value()), cursor));
}

Status BacklogReader::Read(size_t limit, UploadBatch* out) {
  out->ids.clear();
  out->events.Clear();
  sql::Stmt& s = *select_;
  s.BindInt(1, cursor_->load(std::memory_order_acquire));
  s.BindInt(2, static_cast<int64_t>(limit));
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) {
      s.Reset();
      return row.status();
    }
    if (!*row) break;
    out->ids.push_back(s.ColumnInt(0));
    bool has_payload = !s.ColumnIsNull(3);
    out->events.Add(s.ColumnText(1), s.ColumnText(2), has_payload ? s.ColumnText(3) : "",
                    has_payload, s.ColumnInt(4));
  }
  s.Reset();
  return Status::Ok();
}

}  // namespace cistern
