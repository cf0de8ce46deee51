#include "store/file_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cistern {

Result<std::unique_ptr<FileLock>> FileLock::Acquire(const std::string& lock_path) {
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::IoError(
        fmt::format("cannot open lock file {}: {}", lock_path, std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    std::string holder = n > 0 ? fmt::format(" by pid {}", std::string(buf, n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    if (err == EWOULDBLOCK) {
      return Status::Busy(fmt::format("database is in use by another cistern: lock {} is held{}",
                                      lock_path, holder));
    }
    return Status::IoError(fmt::format("cannot lock {}: {}", lock_path, std::strerror(err)));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock is what matters; the pid is only a courtesy for the error message.
  }
  return std::unique_ptr<FileLock>(new FileLock(lock_path, fd));
}

FileLock::~FileLock() {
  // Closing releases the flock. The file is left in place: unlinking it would race with a
  // new collector that opened the old inode and locked it.
  ::close(fd_);
}

}  // namespace cistern
