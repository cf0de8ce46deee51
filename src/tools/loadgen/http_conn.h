// How cistern-loadgen's HTTP load reaches the collector: the resolved target, its Host
// header, TLS for an https:// target, and the bearer tokens (docs/security.md).
// Thread-safety: an HttpConn is read-only once made; connections made from it belong to one
// io thread each.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace cistern::loadgen {

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

struct HttpConn {
  std::vector<boost::asio::ip::tcp::endpoint> endpoints;  // the resolved target
  std::string host_header;                                // Host: value
  std::string server_name;  // TLS: SNI, and the name the certificate must carry
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain http
  // "Bearer <token>" for the POSTs, and for GET /stats ("" = send no Authorization).
  std::string authorization;
  std::string admin_authorization;
};

// The client TLS context for an https:// target: the collector's certificate must chain to
// `cacert` (a PEM file) or, when that is empty, to the system's CAs, and name `host`;
// `insecure` checks neither (testing only). TLS 1.2 at least. Errors name the file.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientTls(const std::string& cacert,
                                                                 bool insecure,
                                                                 const std::string& host);

// A fresh, unconnected stream of either kind for `conn`.
inline PlainStream NewStream(boost::asio::io_context& ioc, const HttpConn&, PlainStream*) {
  return PlainStream(ioc);
}
inline TlsStream NewStream(boost::asio::io_context& ioc, const HttpConn& conn, TlsStream*) {
  return TlsStream(ioc, *conn.tls);
}

// Before the TLS handshake: SNI and the name to verify. False when OpenSSL refused them.
bool PrepareTls(TlsStream& stream, const HttpConn& conn);

}  // namespace cistern::loadgen
