// BacklogReader: the uploader's view of the backlog, through a read-only connection of its
// own (WAL: a consistent snapshot that never blocks the writer). Read() returns the next
// pending events in id order: those above the upload cursor as of the last MarkUploaded that
// committed, so after a failed ship the same events come again. Every write path commits in
// id order, so a snapshot holds a prefix of the ids: Read() never returns an event while an
// earlier one is still to be committed (docs/lifecycle.md). A read costs O(batch) through the
// rowid whatever the file's size.
// Not thread-safe; owned by the uploader thread. Must not outlive the Store that made it.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "common/status.h"
#include "sinks/api/upload_batch.h"
#include "store/sqlite.h"

namespace cistern {

class BacklogReader {
 public:
  // `cursor` is the store's upload cursor (BufferState::cursor).
  static Result<std::unique_ptr<BacklogReader>> Open(const std::string& path,
                                                     const std::atomic<int64_t>* cursor);

  // Fills *out (cleared first; node_id is left as it is) with up to `limit` pending events,
  // oldest id first. An empty batch means nothing is pending.
  Status Read(size_t limit, UploadBatch* out);

 private:
  BacklogReader(std::unique_ptr<sql::Db> db, std::unique_ptr<sql::Stmt> select,
                const std::atomic<int64_t>* cursor)
      : db_(std::move(db)), select_(std::move(select)), cursor_(cursor) {}
  std::unique_ptr<sql::Db> db_;
  std::unique_ptr<sql::Stmt> select_;
  const std::atomic<int64_t>* cursor_;
};

}  // namespace cistern
