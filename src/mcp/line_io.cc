#include "mcp/line_io.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

namespace cistern::mcp {

bool LineReader::Fill() {
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  char chunk[65536];
  for (;;) {
    ssize_t n = read(fd_, chunk, sizeof chunk);
    if (n > 0) {
      buf_.append(chunk, static_cast<size_t>(n));
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

LineReader::Outcome LineReader::Next(std::string* line) {
  bool skipping = false;
  for (;;) {
    size_t nl = buf_.find('\n', pos_);
    if (nl != std::string::npos) {
      bool too_long = skipping || nl - pos_ > max_bytes_;
      if (!too_long) line->assign(buf_, pos_, nl - pos_);
      pos_ = nl + 1;
      return too_long ? Outcome::kTooLong : Outcome::kLine;
    }
    if (buf_.size() - pos_ > max_bytes_) {
      // Drop what we have of the oversized line and keep reading until its newline.
      skipping = true;
      buf_.clear();
      pos_ = 0;
    }
    if (!Fill()) {
      if (skipping) return Outcome::kTooLong;
      if (pos_ < buf_.size()) {
        line->assign(buf_, pos_, std::string::npos);
        pos_ = buf_.size();
        return Outcome::kLine;
      }
      return Outcome::kEof;
    }
  }
}

bool WriteLine(int fd, const std::string& line) {
  // The line and its newline in one writev, without copying the (possibly large) line.
  static const char kNewline = '\n';
  iovec parts[2] = {{const_cast<char*>(line.data()), line.size()},
                    {const_cast<char*>(&kNewline), 1}};
  size_t left = line.size() + 1;
  iovec* next = parts;
  int count = 2;
  while (left > 0) {
    ssize_t n = writev(fd, next, count);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    left -= static_cast<size_t>(n);
    auto done = static_cast<size_t>(n);
    while (count > 0 && done >= next->iov_len) {
      done -= next->iov_len;
      ++next;
      --count;
    }
    if (count > 0) {
      next->iov_base = static_cast<char*>(next->iov_base) + done;
      next->iov_len -= done;
    }
  }
  return true;
}

}  // namespace cistern::mcp
