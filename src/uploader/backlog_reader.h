// BacklogReader: the uploader's own read-only connection (WAL: a consistent snapshot that
// never blocks the writer). Reads the next batch of un-uploaded events in id order through
// the partial index events_backlog, so a read costs O(batch) whatever the database size.
// Not thread-safe; owned by the uploader thread.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "store/sqlite.h"
#include "uploader/upload_batch.h"

namespace cistern {

class BacklogReader {
 public:
  static Result<std::unique_ptr<BacklogReader>> Open(const std::string& path);

  // Fills *out (cleared first; node_id is left as it is) with up to `limit` un-uploaded
  // events, oldest id first. An empty batch means the backlog is empty.
  Status Read(size_t limit, UploadBatch* out);

 private:
  BacklogReader(std::unique_ptr<sql::Db> db, std::unique_ptr<sql::Stmt> select)
      : db_(std::move(db)), select_(std::move(select)) {}
  std::unique_ptr<sql::Db> db_;
  std::unique_ptr<sql::Stmt> select_;
};

}  // namespace cistern
