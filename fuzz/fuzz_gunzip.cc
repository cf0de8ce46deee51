// libFuzzer target: the input is a Content-Encoding: gzip request body for Gunzip.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "common/status.h"
#include "event/gzip.h"

namespace {

constexpr size_t kLimit = 1 << 20;  // 1 MiB

[[noreturn]] void Broken(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  __builtin_trap();
}
#define FUZZ_CHECK(cond)        \
  do {                          \
    if (!(cond)) Broken(#cond); \
  } while (0)

// Compresses `in` as one gzip member with zlib (independent of Gunzip).
std::string GzipCompress(std::string_view in) {
  z_stream z{};
  // 15 window bits + 16: write a gzip wrapper.
  FUZZ_CHECK(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) ==
             Z_OK);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  FUZZ_CHECK(rc == Z_STREAM_END);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using cistern::Gunzip;
  using cistern::Status;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string out = "stale";
  Status s = Gunzip(in, kLimit, &out);
  FUZZ_CHECK(out.size() <= kLimit);
  if (!s.ok()) {
    FUZZ_CHECK(s.code() == Status::Code::kInvalidArgument || s.code() == Status::Code::kTooLarge);
    FUZZ_CHECK(!s.message().empty());
    return 0;
  }
  // Round trip: what Gunzip returned, compressed again, must come back byte for byte.
  std::string again;
  Status s2 = Gunzip(GzipCompress(out), kLimit, &again);
  FUZZ_CHECK(s2.ok());
  FUZZ_CHECK(again == out);
  return 0;
}
