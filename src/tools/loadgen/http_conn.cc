#include "tools/loadgen/http_conn.h"

#include <openssl/ssl.h>

#include <boost/asio/ssl/host_name_verification.hpp>
#include <filesystem>

namespace cistern::loadgen {

namespace ssl = boost::asio::ssl;

Result<std::shared_ptr<ssl::context>> MakeClientTls(const std::string& cacert, bool insecure,
                                                    const std::string& host) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (insecure) {
    ctx->set_verify_mode(ssl::verify_none);
    return ctx;
  }
  boost::system::error_code ec;
  if (cacert.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) return Status::InvalidArgument("cannot load the system CAs: " + ec.message());
  } else {
    if (!std::filesystem::is_regular_file(cacert)) {
      return Status::InvalidArgument("--cacert " + cacert + ": no such file");
    }
    ctx->load_verify_file(cacert, ec);
    if (ec) {
      return Status::InvalidArgument("--cacert " + cacert + ": not a PEM certificate (" +
                                     ec.message() + ")");
    }
  }
  ctx->set_verify_mode(ssl::verify_peer);
  ctx->set_verify_callback(ssl::host_name_verification(host));
  return ctx;
}

bool PrepareTls(TlsStream& stream, const HttpConn& conn) {
  // SNI is for names only (RFC 6066 3): never an address.
  boost::system::error_code ec;
  boost::asio::ip::make_address(conn.server_name, ec);
  if (!ec) return true;
  return SSL_set_tlsext_host_name(stream.native_handle(), conn.server_name.c_str()) == 1;
}

}  // namespace cistern::loadgen
