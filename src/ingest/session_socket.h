// The socket types of a connection (HTTP or MQTT): a TCP socket bound to the connection's
// strand, plain or under TLS. Asio only (no Beast): the server and the MQTT listener name them.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>

namespace cistern {

using SessionStrand = boost::asio::strand<boost::asio::io_context::executor_type>;
using SessionSocket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, SessionStrand>;
using TlsSessionStream = boost::asio::ssl::stream<SessionSocket>;

}  // namespace cistern
