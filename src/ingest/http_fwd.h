// The HTTP message types of ingest/http_types.h declared without Beast's headers: enough to
// name Request, Response and http::status in declarations (router.h, otlp_routes.h,
// http_status.h), so that code that only holds a Router (app/, the server) does not compile
// Beast. Code that builds or reads a message includes ingest/http_types.h, which checks that
// these are the very types Beast defines.
#pragma once

#include <memory>
#include <string>

namespace boost::beast::http {
// As Beast declares them (boost/beast/http/message.hpp, fields.hpp, string_body.hpp,
// status.hpp); their default arguments are Beast's, hence spelled out below.
template <bool isRequest, class Body, class Fields>
class message;
template <class Allocator>
class basic_fields;
template <class CharT, class Traits, class Allocator>
struct basic_string_body;
enum class status : unsigned;
}  // namespace boost::beast::http

namespace cistern {

namespace http = boost::beast::http;
using HttpFields = http::basic_fields<std::allocator<char>>;
using HttpStringBody = http::basic_string_body<char, std::char_traits<char>, std::allocator<char>>;
using Request = http::message<true, HttpStringBody, HttpFields>;
using Response = http::message<false, HttpStringBody, HttpFields>;

}  // namespace cistern
