// WalWatch: how far the collector's WAL has grown, read from the wal-index (`<db>-shm`)
// without a lock and without starting a transaction, so that cistern-mcp can start each query
// on the live file just after the collector rewound its WAL (docs/mcp.md, "Sharing the live
// file").
//
// Why: a reader pins every WAL frame written while its query runs; the collector can only
// copy them into the database and rewind the WAL once that reader is gone. Queries run back to
// back leave no such moment, and the WAL grows for as long as they go on. Waiting, before each
// query, until the WAL is short again bounds the WAL to what one query's duration lets grow.
//
// The figures come from the wal-index header and checkpoint-info block, whose layout is part
// of SQLite's documented file format (https://sqlite.org/walformat.html, "The WAL-Index
// Header"): mxFrame at byte 16 and nBackfill at byte 96, native byte order. They are read
// without SQLite's locks, so a value may be torn or stale: they only decide when to start a
// query, never what it reads.
//
// Thread-safety: not thread-safe; one owner (the ReadOnlyDb).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace cistern::mcp {

struct WalFigures {
  uint32_t frames = 0;      // frames in the WAL since it was last rewound (mxFrame)
  uint32_t backfilled = 0;  // of those, copied into the database (nBackfill)
  uint32_t page_size = 0;   // the database's page size, bytes
  // The bytes `n` frames take in the WAL file (each frame: a 24-byte header and a page).
  int64_t FrameBytes(int64_t n) const { return n * (int64_t{page_size} + 24); }
};

class WalWatch {
 public:
  explicit WalWatch(std::string db_path) : shm_path_(std::move(db_path) + "-shm") {}
  ~WalWatch();
  WalWatch(const WalWatch&) = delete;
  WalWatch& operator=(const WalWatch&) = delete;

  // The figures now, or nullopt when there is no wal-index to read (the collector is not
  // running, the file is not in WAL mode, or the -shm is unreadable).
  std::optional<WalFigures> Read();

  // Returns once the WAL holds at most `short_frames` frames, or every frame is copied, or
  // there is no wal-index, or `max_wait` passed; polls every 2 ms. Returns how long it waited.
  std::chrono::milliseconds WaitUntilShort(uint32_t short_frames,
                                           std::chrono::milliseconds max_wait);

 private:
  const std::string shm_path_;
  int fd_ = -1;  // opened on first use, read-only; reopened when it goes away
};

}  // namespace cistern::mcp
