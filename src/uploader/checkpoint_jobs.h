// The uploader's write transactions, as Jobs run by the store's write path (so they share the
// single writer with ingest; in group mode they join ingest's groups under a savepoint).
// Each returns its counts through the out-parameter, which is meaningful only once the job's
// callback reported success (i.e. after COMMIT).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "store/write_path.h"
#include "uploader/upload_batch.h"

namespace cistern {

// After the sink acknowledged `batch`: marks its events uploaded (only those still pending),
// upserts `devices` (label = key, newest last_seen_at), and adds an 'ok' upload_runs row.
// *marked = events marked. `batch` must outlive the job.
Job MarkUploadedJob(const UploadBatch& batch, int64_t started_ms, int64_t now_ms,
                    std::shared_ptr<int64_t> marked);

// After a failed ship: an 'error' upload_runs row with the message; marks nothing.
Job FailedRunJob(int64_t started_ms, int64_t now_ms, int64_t event_count, std::string error);

// Retention: deletes up to `limit` uploaded events whose uploaded_at <= cutoff_ms, oldest
// first, in O(limit): it reads the table's head (uploads go in id order, so uploaded events
// form the head) and stops at the first event that is still pending or too young. Keeps
// meta.id_high_water so ids are never reused. *deleted = events deleted.
Job RetentionJob(int64_t cutoff_ms, int64_t limit, std::shared_ptr<int64_t> deleted);

}  // namespace cistern
