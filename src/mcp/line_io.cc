#include "mcp/line_io.h"

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
  std::string out = line + '\n';
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = write(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace cistern::mcp
