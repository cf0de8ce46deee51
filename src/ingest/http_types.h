// The HTTP message types shared by the router (no sockets) and the session (sockets).
#pragma once

#include <boost/beast/http.hpp>

namespace cistern {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

}  // namespace cistern
