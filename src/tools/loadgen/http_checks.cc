#include "tools/loadgen/http_checks.h"

#include <simdjson.h>
#include <sqlite3.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <type_traits>

namespace cistern::loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// GET /stats on a fresh connection of kind `Stream` (http_conn.h).
template <class Stream>
asio::awaitable<void> GetStats(asio::io_context& ioc, const HttpConn& conn,
                               std::chrono::milliseconds timeout, StatsProbe* probe,
                               std::string* body) {
  beast::error_code ec;
  Stream stream = NewStream(ioc, conn, static_cast<Stream*>(nullptr));
  auto& tcp_stream = beast::get_lowest_layer(stream);
  tcp_stream.expires_after(timeout);  // one deadline for connect, handshake, write and read
  co_await tcp_stream.async_connect(conn.endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    probe->error = "connect: " + ec.message();
    co_return;
  }
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    if (!PrepareTls(stream, conn)) {
      probe->error = "TLS: cannot set the server name " + conn.server_name;
      co_return;
    }
    co_await stream.async_handshake(asio::ssl::stream_base::client,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      probe->error = "TLS handshake: " + ec.message();
      co_return;
    }
  }
  http::request<http::empty_body> req{http::verb::get, "/stats", 11};
  req.set(http::field::host, conn.host_header);
  req.set(http::field::user_agent, "cistern-loadgen");
  if (!conn.admin_authorization.empty()) {
    req.set(http::field::authorization, conn.admin_authorization);
  }
  req.keep_alive(false);
  co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(4 << 20);
  if (!ec) {
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) {
    probe->error = "GET /stats: " + ec.message();
    co_return;
  }
  if (parser.get().result_int() != 200) {
    probe->error = "GET /stats answered " + std::to_string(parser.get().result_int());
    if (parser.get().result_int() == 401) {
      probe->error += conn.admin_authorization.empty() ? " (the collector wants a token: --token)"
                                                       : " (a wrong token)";
    }
    co_return;
  }
  *body = std::move(parser.get().body());
  tcp_stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

}  // namespace

StatsProbe FetchEventsWritten(const HttpConn& conn, std::chrono::milliseconds timeout) {
  StatsProbe probe;
  std::string body;
  asio::io_context ioc(1);
  if (conn.tls) {
    asio::co_spawn(ioc, GetStats<TlsStream>(ioc, conn, timeout, &probe, &body), asio::detached);
  } else {
    asio::co_spawn(ioc, GetStats<PlainStream>(ioc, conn, timeout, &probe, &body), asio::detached);
  }
  ioc.run();
  if (!probe.error.empty()) return probe;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  if (parser.parse(padded).at_pointer("/store/events_written").get(probe.events_written)) {
    probe.error = "GET /stats has no integer /store/events_written";
    return probe;
  }
  probe.ok = true;
  return probe;
}

DbCheck VerifyIdsInDb(const std::string& db_path, const std::vector<int64_t>& ids) {
  DbCheck check;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(db_path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, SqliteCloser> db(raw);
  auto sql_error = [&](const char* what) {
    check.error = std::string(what) + " " + db_path + ": " +
                  (db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc));
    return check;
  };
  if (rc != SQLITE_OK) return sql_error("cannot open");
  sqlite3_busy_timeout(db.get(), 5000);
  check.checked = static_cast<int64_t>(ids.size());
  if (ids.empty()) {
    check.ok = true;
    return check;
  }
  sqlite3_stmt* raw_stmt = nullptr;
  rc = sqlite3_prepare_v2(db.get(), "SELECT id FROM events WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
                          -1, &raw_stmt, nullptr);
  std::unique_ptr<sqlite3_stmt, StmtFinalizer> stmt(raw_stmt);
  if (rc != SQLITE_OK) return sql_error("cannot query");
  sqlite3_bind_int64(stmt.get(), 1, ids.front());
  sqlite3_bind_int64(stmt.get(), 2, ids.back());
  size_t i = 0;  // the next acknowledged id not yet matched
  auto miss = [&] {
    if (check.missing++ == 0) check.first_missing = ids[i];
    ++i;
  };
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    const int64_t row = sqlite3_column_int64(stmt.get(), 0);
    ++check.rows_in_range;
    while (i < ids.size() && ids[i] < row) miss();
    if (i < ids.size() && ids[i] == row) ++i;
  }
  if (rc != SQLITE_DONE) return sql_error("reading");
  while (i < ids.size()) miss();
  check.ok = check.missing == 0;
  return check;
}

}  // namespace cistern::loadgen
