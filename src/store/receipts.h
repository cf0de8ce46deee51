// Receipts: what the store keeps beside events for the ingest front-ends (docs/lifecycle.md):
//  - dead letters: input a front-end acknowledged but could not turn into an event (an MQTT
//    3.1.1 payload that is not JSON, an OTLP record over the payload limit). The newest
//    kMaxDeadLetters are kept; older ones go as new ones arrive. Counted in /metrics.
//  - MQTT sessions (clean session 0 / clean start 0 with a session expiry) and their QoS 2
//    receipts: (client id, packet id) committed with the PUBLISH's events, deleted at PUBREL,
//    so a PUBLISH sent again before PUBREL is not stored twice, across reconnects and restarts.
// Like Lifecycle, used by a write path on its own connection, inside its transactions only;
// methods return SQLite result codes. Not thread-safe.
#pragma once

#include <memory>

#include "common/status.h"
#include "store/buffer_state.h"
#include "store/sqlite.h"
#include "store/write_ops.h"
#include "store/write_path.h"

namespace cistern {

class Receipts {
 public:
  static constexpr int64_t kMaxDeadLetters = 10'000;

  static Result<std::unique_ptr<Receipts>> Prepare(sql::Db& db);

  // Stores the extras of one request (dead letters, trimmed to the newest kMaxDeadLetters;
  // its QoS 2 receipt).
  int Record(const AppendExtras& extras, int64_t now_ms, TxnEffects* fx);
  // *found: (client_id, packet_id) has a stored QoS 2 receipt.
  int HasReceipt(const std::string& client_id, uint16_t packet_id, bool* found);
  // OpenSessionOp: a clean session drops what was stored; a kept one returns its receipts,
  // and result->count = 1 when a stored session was found (CONNACK Session Present).
  int OpenSession(const OpenSessionOp& op, int64_t now_ms, OpResult* result);
  int CloseSession(const CloseSessionOp& op, int64_t now_ms);
  int Release(const ReleaseQos2Op& op);
  // Sessions whose expiry passed since their client left go, with their receipts.
  int ExpireSessions(int64_t now_ms);

 private:
  explicit Receipts(sql::Db& db) : db_(db) {}
  int DropSession(const std::string& client_id);

  sql::Db& db_;
  std::unique_ptr<sql::Stmt> dead_letter_, trim_dead_letters_, receipt_, release_;
  std::unique_ptr<sql::Stmt> session_put_, session_close_, session_drop_, receipts_drop_;
  std::unique_ptr<sql::Stmt> session_receipts_, expired_, has_receipt_, has_session_;
};

}  // namespace cistern
