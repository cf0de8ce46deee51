#include "tools/loadgen/http_worker.h"

#include <simdjson.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <type_traits>

#include "tools/loadgen/http_events.h"
#include "tools/loadgen/otlp_body.h"

namespace cistern::loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxErrorNotes = 5;
constexpr size_t kMaxNoteBody = 200;
constexpr uint64_t kMaxAnswerBytes = 16 << 20;  // 10,000 ids are ~110 KB

// Spaces requests evenly so that, over all workers, no more than `rate` start per second.
// A slot is taken only when a request is ready to go, so idle time does not bank a burst.
class RateLimiter {
 public:
  explicit RateLimiter(double rate)
      : interval_(rate > 0 ? std::chrono::duration_cast<LoadClock::duration>(
                                 std::chrono::duration<double>(1.0 / rate))
                           : LoadClock::duration::zero()) {}

  // Reserves the next slot at or after `now` and returns its time.
  LoadClock::time_point Reserve(LoadClock::time_point now) {
    if (interval_ == LoadClock::duration::zero()) return now;
    LoadClock::time_point slot = std::max(now, next_);
    next_ = slot + interval_;
    return slot;
  }

 private:
  const LoadClock::duration interval_;
  LoadClock::time_point next_{};
};

// Everything the workers of one run share. Only the io thread touches it.
struct RunState {
  RunState(asio::io_context& io, const LoadSetup& s)
      : ioc(io), setup(s), factory(s.devices), otlp_factory(s.devices), limiter(s.rate), tick(io) {}

  asio::io_context& ioc;
  const LoadSetup& setup;
  LoadClock::time_point deadline;
  EventFactory factory;
  OtlpLogsFactory otlp_factory;
  RateLimiter limiter;
  simdjson::dom::parser parser;  // for the 200 answers; reused
  LoadTotals totals;
  int active = 0;
  asio::steady_timer tick;  // progress; cancelled by the last worker to finish
};

// One producer: a keep-alive connection and a loop of build body -> (rate slot) -> write ->
// read -> account. Kept alive by its pending operation, one step per do/on pair, like the
// Beast client examples. It never has two operations pending, so it needs no strand.
// `Stream`: PlainStream or TlsStream (http_conn.h).
template <class Stream>
class Worker : public std::enable_shared_from_this<Worker<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  explicit Worker(RunState* run) : run_(run), timer_(run->ioc) {
    const HttpConn& conn = run->setup.conn;
    head_ = std::string(run->setup.otlp ? "POST /v1/logs" : "POST /events") +
            " HTTP/1.1\r\nHost: " + conn.host_header + "\r\nContent-Type: " +
            (run->setup.otlp ? "application/x-protobuf" : "application/json") +
            "\r\nUser-Agent: cistern-loadgen\r\n";
    if (!conn.authorization.empty()) head_ += "Authorization: " + conn.authorization + "\r\n";
    head_ += "Content-Length: ";
  }

  void Start() { NextRequest(); }

 private:
  bool TimeIsUp() const { return LoadClock::now() >= run_->deadline; }

  // A fresh body of new events.
  void NextRequest() {
    if (TimeIsUp()) return Finish();
    if (run_->setup.otlp) {
      run_->otlp_factory.Build(run_->setup.batch, &body_);
    } else {
      run_->factory.Build(run_->setup.batch, &body_);
    }
    events_ = run_->setup.batch;
    resend_ = false;
    wire_.assign(head_);
    wire_.append(std::to_string(body_.size()));
    wire_.append("\r\n\r\n");
    wire_.append(body_);
    TakeSlot();
  }

  // Waits for a rate slot (if capped), then sends wire_ as it is.
  void TakeSlot() {
    LoadClock::time_point now = LoadClock::now();
    LoadClock::time_point at = run_->limiter.Reserve(now);
    if (at >= run_->deadline) return GiveUp();
    if (at <= now) return Transmit();
    timer_.expires_at(at);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->Finish();
      self->Transmit();
    });
  }

  void Transmit() {
    if (!connected_) return DoConnect();
    sent_at_ = LoadClock::now();
    beast::get_lowest_layer(*stream_).expires_after(run_->setup.request_timeout);
    asio::async_write(*stream_, asio::buffer(wire_),
                      beast::bind_front_handler(&Worker::OnWrite, shared_from_this()));
  }

  // A fresh stream each time: a TLS stream cannot be used again once closed.
  void DoConnect() {
    stream_.emplace(NewStream(run_->ioc, run_->setup.conn, static_cast<Stream*>(nullptr)));
    beast::get_lowest_layer(*stream_).expires_after(run_->setup.request_timeout);
    beast::get_lowest_layer(*stream_).async_connect(
        run_->setup.conn.endpoints,
        [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
          self->OnConnect(ec);
        });
  }

  void OnConnect(beast::error_code ec) {
    if (ec) return TransportFailure("connect", ec);
    beast::error_code ignored;
    beast::get_lowest_layer(*stream_).socket().set_option(tcp::no_delay(true), ignored);
    if constexpr (kTls) {
      if (!PrepareTls(*stream_, run_->setup.conn)) {
        return TransportFailure("tls", asio::error::invalid_argument);
      }
      stream_->async_handshake(asio::ssl::stream_base::client,
                               [self = shared_from_this()](beast::error_code ec) {
                                 if (ec) return self->TransportFailure("tls", ec);
                                 self->OnReady();
                               });
    } else {
      OnReady();
    }
  }

  void OnReady() {
    connected_ = true;
    buffer_.clear();
    Transmit();
  }

  void OnWrite(beast::error_code ec, size_t) {
    if (ec) return TransportFailure("transport", ec);
    parser_.emplace();
    parser_->body_limit(kMaxAnswerBytes);
    http::async_read(*stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Worker::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec) return TransportFailure("transport", ec);
    auto latency = LoadClock::now() - sent_at_;
    const http::response<http::string_body>& res = parser_->get();
    if (!res.keep_alive()) Close();
    const int status = res.result_int();
    if (status == 503) {
      ++run_->totals.backpressure;
      auto delay = RetryAfterDelay(res[http::field::retry_after]);
      if (LoadClock::now() + delay >= run_->deadline) {
        resend_ = true;
        return GiveUp();
      }
      timer_.expires_after(delay);
      timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec) return self->Finish();
        self->resend_ = true;
        self->TakeSlot();  // the same body: the same events, nothing was stored
      });
      return;
    }
    if (status != 200) {
      std::string note = std::to_string(status) + " " + res.body().substr(0, kMaxNoteBody);
      Fail(std::to_string(status), std::move(note));
      return NextRequest();
    }
    std::string why;
    if (run_->setup.otlp ? !OtlpLogsAccepted(res.body(), &why)
                         : !ParseAck(run_->parser, res.body(), events_, &run_->totals.ids, &why)) {
      Fail("bad ack", why + ": " + res.body().substr(0, kMaxNoteBody));
      return NextRequest();
    }
    LoadTotals& t = run_->totals;
    ++t.requests_ok;
    t.events_accepted += events_;
    t.latency.Record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(latency).count()));
    NextRequest();
  }

  // The request may or may not have been stored: a failure. Reconnect after a pause and go
  // on with new events.
  void TransportFailure(const char* reason, beast::error_code ec) {
    Fail(reason, std::string(reason) + ": " + ec.message());
    Close();
    if (TimeIsUp()) return Finish();
    timer_.expires_after(run_->setup.reconnect_pause);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->Finish();
      self->NextRequest();
    });
  }

  void Fail(const std::string& reason, std::string note) {
    LoadTotals& t = run_->totals;
    ++t.failures;
    t.failed_events += events_;
    ++t.failures_by_reason[reason];
    if (t.first_errors.size() < kMaxErrorNotes &&
        std::find(t.first_errors.begin(), t.first_errors.end(), note) == t.first_errors.end()) {
      t.first_errors.push_back(std::move(note));
    }
  }

  // Out of time before wire_ could go (again).
  void GiveUp() {
    if (resend_) ++run_->totals.abandoned_after_503;
    Finish();
  }

  // Without a TLS close_notify: the load generator drops the connection, as on a failure.
  void Close() {
    if (stream_) {
      beast::error_code ignored;
      beast::get_lowest_layer(*stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(*stream_).close();
    }
    connected_ = false;
    buffer_.clear();
  }

  void Finish() {
    Close();
    if (--run_->active == 0) run_->tick.cancel();
  }

  using std::enable_shared_from_this<Worker<Stream>>::shared_from_this;

  RunState* run_;
  std::optional<Stream> stream_;  // made by DoConnect
  asio::steady_timer timer_;      // rate slots, Retry-After, reconnect pauses
  beast::flat_buffer buffer_;
  // The request, serialized once into one buffer (Beast's serializer cost more than the
  // rest of the client's user time): head_ + Content-Length + body_.
  std::string head_;
  std::string body_;
  std::string wire_;
  std::optional<http::response_parser<http::string_body>> parser_;
  int events_ = 0;       // events in body_
  bool resend_ = false;  // wire_ was answered 503 and waits to be sent again
  bool connected_ = false;
  LoadClock::time_point sent_at_;
};

}  // namespace

LoadTotals RunWorkers(const LoadSetup& setup,
                      const std::function<void(const LoadTotals&, double elapsed_s)>& on_tick) {
  asio::io_context ioc(1);
  RunState run(ioc, setup);
  const LoadClock::time_point start = LoadClock::now();
  run.deadline = start + setup.duration;
  auto elapsed = [&] { return std::chrono::duration<double>(LoadClock::now() - start).count(); };

  run.active = setup.workers;
  for (int i = 0; i < setup.workers; ++i) {
    if (setup.conn.tls) {
      std::make_shared<Worker<TlsStream>>(&run)->Start();
    } else {
      std::make_shared<Worker<PlainStream>>(&run)->Start();
    }
  }

  std::function<void()> arm_tick = [&] {
    run.tick.expires_after(std::chrono::milliseconds(250));
    run.tick.async_wait([&](beast::error_code ec) {
      if (ec || run.active == 0) return;
      on_tick(run.totals, elapsed());
      arm_tick();
    });
  };
  if (on_tick && run.active > 0) arm_tick();

  ioc.run();
  run.totals.elapsed_s = elapsed();
  return std::move(run.totals);
}

}  // namespace cistern::loadgen
