// Connection-level bounds: header/body/idle timeouts cut off slow or stalled clients, an
// oversized Content-Length is refused before the body is read, and --max-connections holds.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <thread>

#include "support/server_fixture.h"

namespace cistern::testing {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class LimitsTest : public ServerTest {
 protected:
  // Connects, sends `prefix`, then waits (up to `give_up`) for the server to close the
  // connection. Returns how long that took, or give_up if it never did.
  std::chrono::milliseconds TimeUntilClosed(const std::string& prefix,
                                            std::chrono::milliseconds give_up) {
    asio::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    asio::write(s, asio::buffer(prefix));
    auto start = std::chrono::steady_clock::now();
    // Poll with non-blocking reads until EOF/reset or give_up.
    s.non_blocking(true);
    char buf[1024];
    while (std::chrono::steady_clock::now() - start < give_up) {
      boost::system::error_code ec;
      s.read_some(asio::buffer(buf), ec);
      if (ec && ec != asio::error::would_block) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  }
};

TEST_F(LimitsTest, StalledHeaderIsCutOff) {
  Start({"--header-timeout", "300ms"});
  auto took = TimeUntilClosed("POST /events HTTP/1.1\r\nHost: x\r\n", std::chrono::seconds(10));
  EXPECT_LT(took, std::chrono::seconds(10))
      << "a client that never finished its header kept the connection";
  EXPECT_EQ(Rows(), 0);
}

TEST_F(LimitsTest, IdleKeepAliveConnectionIsClosed) {
  Start({"--header-timeout", "300ms"});
  auto took = TimeUntilClosed("", std::chrono::seconds(10));
  EXPECT_LT(took, std::chrono::seconds(10));
}

TEST_F(LimitsTest, StalledBodyIsCutOffAndNothingIsStored) {
  Start({"--body-timeout", "300ms"});
  auto took = TimeUntilClosed(
      "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"device_id\":",
      std::chrono::seconds(10));
  EXPECT_LT(took, std::chrono::seconds(10));
  EXPECT_EQ(Rows(), 0);
}

TEST_F(LimitsTest, HugeContentLengthIsRefusedBeforeTheBodyArrives) {
  Start({"--max-body-bytes", "1MiB"});
  // Only the header is sent: the answer must come without waiting for 10 GB.
  std::string got = RawExchange(
      server_->port(), "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n",
      std::chrono::seconds(5));
  EXPECT_EQ(got.rfind("HTTP/1.1 413", 0), 0u) << got;
  EXPECT_EQ(Rows(), 0);
}

TEST_F(LimitsTest, ThousandsOfIdleConnectionsDoNotLockOutNewClients) {
  Start({"--max-connections", "50"});
  asio::io_context ioc;
  std::vector<std::unique_ptr<tcp::socket>> idle;
  for (int i = 0; i < 600; ++i) {  // idle sockets and slowloris-style half headers
    idle.push_back(std::make_unique<tcp::socket>(ioc));
    boost::system::error_code ec;
    idle.back()->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()), ec);
    if (!ec && i % 2) asio::write(*idle.back(), asio::buffer(std::string("GET /heal")), ec);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // A real client still gets in (the longest-idle connection made room) and is served.
  HttpClient fresh("127.0.0.1", server_->port());
  EXPECT_EQ(fresh.Get("/healthz").status, 200);
  EXPECT_EQ(fresh.Post("/events", R"({"device_id":"a","kind":"t"})").status, 200);
  EXPECT_EQ(Rows(), 1);
}

TEST_F(LimitsTest, WhenEveryConnectionIsBusyNewOnesGet503) {
  Start({"--max-connections", "4", "--body-timeout", "20s"});
  asio::io_context ioc;
  std::vector<std::unique_ptr<tcp::socket>> busy;
  for (int i = 0; i < 4; ++i) {  // each mid-request: header sent, body still coming
    busy.push_back(std::make_unique<tcp::socket>(ioc));
    busy.back()->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    asio::write(*busy.back(),
                asio::buffer(std::string("POST /events HTTP/1.1\r\nHost: x\r\n"
                                         "Content-Length: 100\r\n\r\n{\"device_id\"")));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string got = RawExchange(server_->port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 503", 0), 0u) << got;
  EXPECT_NE(got.find("too many connections"), std::string::npos) << got;
  busy.clear();  // the slots free up...
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  HttpClient fresh("127.0.0.1", server_->port());
  EXPECT_EQ(fresh.Get("/healthz").status, 200);  // ... and new clients are served again
  EXPECT_EQ(Rows(), 0);
}

}  // namespace
}  // namespace cistern::testing
