#include "mcp/wal_watch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <thread>

namespace cistern::mcp {
namespace {

// https://sqlite.org/walformat.html: the wal-index starts with two copies of a 48-byte header
// (iVersion u32 @0, ..., isInit u8 @12, ..., mxFrame u32 @16, ...), then the checkpoint info
// (nBackfill u32 @96, ...). All native byte order.
constexpr size_t kBytesRead = 100;
constexpr size_t kVersionAt = 0;
constexpr size_t kIsInitAt = 12;
constexpr size_t kPageSizeAt = 14;  // u16; 1 means 65536
constexpr size_t kMxFrameAt = 16;
constexpr size_t kBackfillAt = 96;
constexpr uint32_t kWalIndexVersion = 3007000;
constexpr auto kPoll = std::chrono::milliseconds(2);

uint32_t U32At(const unsigned char* p, size_t at) {
  uint32_t v;
  std::memcpy(&v, p + at, sizeof v);
  return v;
}

}  // namespace

WalWatch::~WalWatch() {
  if (fd_ >= 0) close(fd_);
}

std::optional<WalFigures> WalWatch::Read() {
  if (fd_ >= 0) {
    // The collector removes the -shm on a clean stop and makes a new one when it starts.
    struct stat st {};
    if (fstat(fd_, &st) != 0 || st.st_nlink == 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  if (fd_ < 0) fd_ = open(shm_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return std::nullopt;
  unsigned char buf[kBytesRead];
  if (pread(fd_, buf, sizeof buf, 0) != static_cast<ssize_t>(sizeof buf)) return std::nullopt;
  if (U32At(buf, kVersionAt) != kWalIndexVersion || buf[kIsInitAt] != 1) return std::nullopt;
  uint16_t page_size;
  std::memcpy(&page_size, buf + kPageSizeAt, sizeof page_size);
  return WalFigures{U32At(buf, kMxFrameAt), U32At(buf, kBackfillAt),
                    page_size == 1 ? 65536u : uint32_t{page_size}};
}

std::chrono::milliseconds WalWatch::WaitUntilShort(uint32_t short_frames,
                                                   std::chrono::milliseconds max_wait) {
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    auto wal = Read();
    if (!wal || wal->frames <= short_frames || wal->backfilled >= wal->frames ||
        waited >= max_wait) {
      return waited;
    }
    std::this_thread::sleep_for(kPoll);
  }
}

}  // namespace cistern::mcp
