// The HTTP message types shared by the router (no sockets) and the session (sockets), with
// Beast's definitions. Headers that only name them include ingest/http_fwd.h instead.
#pragma once

#include <boost/beast/http.hpp>
#include <type_traits>

#include "ingest/http_fwd.h"

namespace cistern {

static_assert(std::is_same_v<Request, http::request<http::string_body>>);
static_assert(std::is_same_v<Response, http::response<http::string_body>>);

}  // namespace cistern
