#include "event/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <memory>

namespace cistern {
namespace {

struct InflateDeleter {
  void operator()(z_stream* z) const {
    inflateEnd(z);
    delete z;
  }
};

}  // namespace

Status Gunzip(std::string_view in, size_t max_output, std::string* out) {
  out->clear();
  std::unique_ptr<z_stream, InflateDeleter> z(new z_stream{});
  // 15 window bits + 16: gzip wrapper only (no raw deflate, no zlib header).
  if (inflateInit2(z.get(), 15 + 16) != Z_OK) return Status::Internal("inflateInit2 failed");
  z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z->avail_in = static_cast<uInt>(in.size());
  // Grow geometrically, never past max_output + 1 (one extra byte detects "too large").
  size_t cap = std::min(std::max<size_t>(in.size() * 4, 4096), max_output + 1);
  out->resize(cap);
  size_t produced = 0;
  for (;;) {
    if (produced == out->size()) {
      if (out->size() > max_output) break;
      out->resize(std::min(out->size() * 2, max_output + 1));
    }
    z->next_out = reinterpret_cast<Bytef*>(out->data() + produced);
    z->avail_out = static_cast<uInt>(out->size() - produced);
    int rc = inflate(z.get(), Z_NO_FLUSH);
    produced = out->size() - z->avail_out;
    if (rc == Z_STREAM_END) {
      if (z->avail_in == 0) break;
      // Another gzip member follows (concatenated members are valid gzip).
      if (inflateReset(z.get()) != Z_OK) return Status::Internal("inflateReset failed");
      continue;
    }
    if (rc == Z_BUF_ERROR && z->avail_in == 0) {
      out->clear();
      return Status::InvalidArgument("invalid gzip body: truncated stream");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      out->clear();
      return Status::InvalidArgument(std::string("invalid gzip body: ") +
                                     (z->msg ? z->msg : "corrupt stream"));
    }
  }
  if (produced > max_output) {
    out->clear();
    return Status::TooLarge("decompressed body is over the limit of " + std::to_string(max_output) +
                            " bytes");
  }
  out->resize(produced);
  return Status::Ok();
}

}  // namespace cistern
