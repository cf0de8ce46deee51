#include "store/receipts.h"

#include <string>
#include <vector>

namespace cistern {
namespace {

int StepDone(sql::Stmt& s) {
  int rc = sqlite3_step(s.handle());
  sqlite3_reset(s.handle());
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

void Text(sql::Stmt& s, int i, std::string_view v) {
  sqlite3_bind_text(s.handle(), i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

}  // namespace

Result<std::unique_ptr<Receipts>> Receipts::Prepare(sql::Db& db) {
  std::unique_ptr<Receipts> r(new Receipts(db));
  struct {
    std::unique_ptr<sql::Stmt>* stmt;
    const char* sql;
  } const kStatements[] = {
      {&r->dead_letter_,
       "INSERT INTO dead_letters(received_at, source, reason, origin, body) "
       "VALUES(?1, ?2, ?3, ?4, ?5)"},
      {&r->trim_dead_letters_, "DELETE FROM dead_letters WHERE id <= ?1"},
      {&r->receipt_,
       "INSERT OR IGNORE INTO mqtt_qos2(client_id, packet_id, received_at) VALUES(?1, ?2, ?3)"},
      {&r->release_, "DELETE FROM mqtt_qos2 WHERE client_id = ?1 AND packet_id = ?2"},
      {&r->session_put_,
       "INSERT INTO mqtt_sessions(client_id, expiry_ms, disconnected_at) VALUES(?1, ?2, NULL) "
       "ON CONFLICT(client_id) DO UPDATE SET expiry_ms = excluded.expiry_ms, "
       "disconnected_at = NULL"},
      {&r->session_close_,
       "UPDATE mqtt_sessions SET expiry_ms = ?2, disconnected_at = ?3 WHERE client_id = ?1"},
      {&r->session_drop_, "DELETE FROM mqtt_sessions WHERE client_id = ?1"},
      {&r->receipts_drop_, "DELETE FROM mqtt_qos2 WHERE client_id = ?1"},
      {&r->session_receipts_,
       "SELECT packet_id FROM mqtt_qos2 WHERE client_id = ?1 ORDER BY packet_id"},
      {&r->has_receipt_, "SELECT 1 FROM mqtt_qos2 WHERE client_id = ?1 AND packet_id = ?2"},
      {&r->has_session_, "SELECT 1 FROM mqtt_sessions WHERE client_id = ?1"},
      {&r->expired_,
       "SELECT client_id FROM mqtt_sessions WHERE disconnected_at IS NOT NULL AND "
       "expiry_ms >= 0 AND disconnected_at + expiry_ms <= ?1 LIMIT 100"},
  };
  for (const auto& [stmt, text] : kStatements) {
    auto prepared = db.Prepare(text);
    if (!prepared.ok()) return prepared.status();
    *stmt = std::move(prepared.value());
  }
  return r;
}

int Receipts::Record(const AppendExtras& extras, int64_t now_ms, TxnEffects* fx) {
  for (const DeadLetter& d : extras.dead_letters) {
    sqlite3_bind_int64(dead_letter_->handle(), 1, now_ms);
    Text(*dead_letter_, 2, d.source);
    Text(*dead_letter_, 3, d.reason);
    Text(*dead_letter_, 4, d.origin);
    sqlite3_bind_blob(dead_letter_->handle(), 5, d.body.data(), static_cast<int>(d.body.size()),
                      SQLITE_STATIC);
    if (int rc = StepDone(*dead_letter_); rc != SQLITE_OK) return rc;
    fx->dead_letters++;
  }
  if (!extras.dead_letters.empty()) {
    const int64_t newest = sqlite3_last_insert_rowid(db_.handle());
    sqlite3_bind_int64(trim_dead_letters_->handle(), 1, newest - kMaxDeadLetters);
    if (int rc = StepDone(*trim_dead_letters_); rc != SQLITE_OK) return rc;
  }
  if (extras.qos2_packet_id != 0) {
    Text(*receipt_, 1, extras.qos2_client);
    sqlite3_bind_int64(receipt_->handle(), 2, extras.qos2_packet_id);
    sqlite3_bind_int64(receipt_->handle(), 3, now_ms);
    if (int rc = StepDone(*receipt_); rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

int Receipts::HasReceipt(const std::string& client_id, uint16_t packet_id, bool* found) {
  sqlite3_stmt* q = has_receipt_->handle();
  Text(*has_receipt_, 1, client_id);
  sqlite3_bind_int64(q, 2, packet_id);
  int rc = sqlite3_step(q);
  *found = rc == SQLITE_ROW;
  sqlite3_reset(q);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int Receipts::DropSession(const std::string& client_id) {
  Text(*session_drop_, 1, client_id);
  if (int rc = StepDone(*session_drop_); rc != SQLITE_OK) return rc;
  Text(*receipts_drop_, 1, client_id);
  return StepDone(*receipts_drop_);
}

int Receipts::OpenSession(const OpenSessionOp& op, int64_t now_ms, OpResult* result) {
  if (op.clean) {
    if (int rc = DropSession(op.client_id); rc != SQLITE_OK) return rc;
  } else {
    // A session that expired while its client was away starts afresh.
    if (int rc = ExpireSessions(now_ms); rc != SQLITE_OK) return rc;
    sqlite3_stmt* s = has_session_->handle();
    Text(*has_session_, 1, op.client_id);
    int found = sqlite3_step(s);
    sqlite3_reset(s);
    if (found != SQLITE_ROW && found != SQLITE_DONE) return found;
    result->count = found == SQLITE_ROW ? 1 : 0;
    sqlite3_stmt* q = session_receipts_->handle();
    Text(*session_receipts_, 1, op.client_id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
      result->values.push_back(sqlite3_column_int64(q, 0));
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) return rc;
  }
  if (op.expiry_ms == 0) return SQLITE_OK;  // nothing outlives the connection
  Text(*session_put_, 1, op.client_id);
  sqlite3_bind_int64(session_put_->handle(), 2, op.expiry_ms);
  return StepDone(*session_put_);
}

int Receipts::CloseSession(const CloseSessionOp& op, int64_t now_ms) {
  if (op.expiry_ms == 0) return DropSession(op.client_id);
  Text(*session_close_, 1, op.client_id);
  sqlite3_bind_int64(session_close_->handle(), 2, op.expiry_ms);
  sqlite3_bind_int64(session_close_->handle(), 3, now_ms);
  return StepDone(*session_close_);
}

int Receipts::Release(const ReleaseQos2Op& op) {
  Text(*release_, 1, op.client_id);
  sqlite3_bind_int64(release_->handle(), 2, op.packet_id);
  return StepDone(*release_);
}

int Receipts::ExpireSessions(int64_t now_ms) {
  std::vector<std::string> expired;
  sqlite3_stmt* q = expired_->handle();
  sqlite3_bind_int64(q, 1, now_ms);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    expired.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)),
                         static_cast<size_t>(sqlite3_column_bytes(q, 0)));
  }
  sqlite3_reset(q);
  if (rc != SQLITE_DONE) return rc;
  for (const std::string& client : expired) {
    if (int drop = DropSession(client); drop != SQLITE_OK) return drop;
  }
  return SQLITE_OK;
}

}  // namespace cistern
