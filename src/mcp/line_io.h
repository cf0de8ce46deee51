// Line framing over file descriptors for MCP's stdio transport: requests arrive one per line
// on stdin, replies leave one per line on stdout. Not thread-safe: one reader, one writer.
#pragma once

#include <cstddef>
#include <string>

namespace cistern::mcp {

// Reads '\n'-terminated lines from `fd`, each at most `max_bytes` long.
class LineReader {
 public:
  enum class Outcome { kLine, kTooLong, kEof };
  LineReader(int fd, size_t max_bytes) : fd_(fd), max_bytes_(max_bytes) {}

  // kLine: *line holds the next line without "\n" (a last line without a newline counts).
  // kTooLong: a line exceeded max_bytes; it was skipped up to its newline.
  // kEof: end of input, or a read error.
  Outcome Next(std::string* line);

 private:
  bool Fill();  // reads more into buf_; false at EOF or error
  const int fd_;
  const size_t max_bytes_;
  std::string buf_;
  size_t pos_ = 0;
};

// Writes `line` and a newline to `fd`, retrying short writes. False when the peer is gone.
bool WriteLine(int fd, const std::string& line);

}  // namespace cistern::mcp
