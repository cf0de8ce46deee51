#include "ingest/http_status.h"

#include <boost/beast/core/string.hpp>

#include "ingest/http_types.h"

namespace cistern {

http::status HttpStatusOf(const Status& s, StoreErrors store_errors) {
  const bool exact = store_errors == StoreErrors::kExact;
  switch (s.code()) {
    case Status::Code::kOk:
      return http::status::ok;
    case Status::Code::kInvalidArgument:
      return http::status::bad_request;
    case Status::Code::kTooLarge:
      return http::status::payload_too_large;
    case Status::Code::kUnsupported:
      return http::status::unsupported_media_type;
    case Status::Code::kBufferFull:
    case Status::Code::kBusy:
    case Status::Code::kUnavailable:
      return http::status::service_unavailable;
    case Status::Code::kDiskFull:
      return exact ? http::status::insufficient_storage : http::status::service_unavailable;
    case Status::Code::kIoError:
      return exact ? http::status::internal_server_error : http::status::service_unavailable;
    case Status::Code::kInternal:
      return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

bool MediaTypeIs(std::string_view header, std::string_view type) {
  std::string_view media = header.substr(0, header.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  while (!media.empty() && media.front() == ' ') media.remove_prefix(1);
  return boost::beast::iequals(media, type);
}

}  // namespace cistern
