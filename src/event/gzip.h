// Gunzip for request bodies (Content-Encoding: gzip), bounded so that a gzip bomb cannot make
// us allocate more than `max_output` bytes. Pure; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace cistern {

// Decompresses a gzip stream (one or more concatenated members) into *out.
// Returns TooLarge as soon as the output would exceed max_output bytes (decompression stops
// there: the bomb is never inflated whole), InvalidArgument on a corrupt or truncated stream.
Status Gunzip(std::string_view in, size_t max_output, std::string* out);

}  // namespace cistern
