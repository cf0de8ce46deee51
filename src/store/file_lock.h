// FileLock: the cross-process guard of docs/architecture.md (one database per file). An exclusive,
// non-blocking flock on `<db>.lock`, held for the life of the object; the holder's pid is written
// into the file so the error a second collector prints can name it. The kernel drops the lock when
// the process dies (kill -9 included), so a stale lock file never blocks a restart. Not
// thread-safe; owned by the store's shared state.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace cistern {

class FileLock {
 public:
  // Returns Busy naming the lock file (and the holder's pid when readable) if another open
  // file description holds it, IoError when the lock file cannot be created.
  static Result<std::unique_ptr<FileLock>> Acquire(const std::string& lock_path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  FileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
};

}  // namespace cistern
