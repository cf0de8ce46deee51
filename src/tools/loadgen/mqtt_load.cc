#include "tools/loadgen/mqtt_load.h"

#include <sqlite3.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <vector>

namespace cistern::loadgen {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

void PutString(std::vector<uint8_t>* out, std::string_view s) {
  out->push_back(static_cast<uint8_t>(s.size() >> 8));
  out->push_back(static_cast<uint8_t>(s.size()));
  out->insert(out->end(), s.begin(), s.end());
}

void Frame(uint8_t first, const std::vector<uint8_t>& body, std::vector<uint8_t>* out) {
  out->push_back(first);
  size_t len = body.size();
  do {
    uint8_t b = len % 128;
    len /= 128;
    if (len) b |= 0x80;
    out->push_back(b);
  } while (len);
  out->insert(out->end(), body.begin(), body.end());
}

struct Shared {
  MqttLoadOptions o;
  Clock::time_point end;
  std::vector<int64_t> latency_us;
  int64_t acked = 0, failures = 0;
  std::map<int, std::vector<int64_t>> acked_seqs;  // connection -> seqs
  std::string first_error;
};

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(asio::io_context& ioc, Shared& s, int index) : sock_(ioc), s_(s), index_(index) {}

  void Start(const tcp::endpoint& ep) {
    sock_.async_connect(ep, [self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return self->Fail("connect: " + ec.message());
      self->sock_.set_option(tcp::no_delay(true));
      std::vector<uint8_t> body = {0, 4, 'M', 'Q', 'T', 'T', 4};
      uint8_t flags = 0x02;  // clean session
      if (!self->s_.o.password.empty()) flags |= 0x80 | 0x40;
      body.push_back(flags);
      body.push_back(0);
      body.push_back(60);  // keep alive
      PutString(&body, "mqtt-lg-" + std::to_string(self->index_));
      if (!self->s_.o.password.empty()) {
        PutString(&body, "loadgen");
        PutString(&body, self->s_.o.password);
      }
      Frame(0x10, body, &self->out_);
      self->Write();
      self->Read();
    });
  }

 private:
  void Fail(const std::string& why) {
    if (done_) return;
    done_ = true;
    s_.failures++;
    if (s_.first_error.empty())
      s_.first_error = "connection " + std::to_string(index_) + ": " + why;
    boost::system::error_code ec;
    sock_.close(ec);
  }
  void Publish() {
    while (!stopping_ && static_cast<int>(inflight_.size()) < s_.o.inflight) {
      if (Clock::now() >= s_.end) {
        stopping_ = true;
        break;
      }
      const int64_t seq = ++seq_;
      next_id_ = next_id_ == 65535 ? 1 : next_id_ + 1;
      char payload[256];
      int n = std::snprintf(
          payload, sizeof payload,
          R"({"device_id":"mqtt-lg-%d","kind":"%s","payload":{"temp":%.2f,"humidity":%.1f,"seq":%lld,"note":"said \"ok\""}})",
          index_, seq % 17 == 0 ? "error" : "reading", 18 + (seq % 700) / 100.0,
          30 + (seq % 400) / 10.0, static_cast<long long>(seq));
      std::vector<uint8_t> body;
      PutString(&body, "devices/mqtt-lg-" + std::to_string(index_) + "/reading");
      body.push_back(static_cast<uint8_t>(next_id_ >> 8));
      body.push_back(static_cast<uint8_t>(next_id_));
      body.insert(body.end(), payload, payload + n);
      Frame(static_cast<uint8_t>(0x30 | (s_.o.qos << 1)), body, &out_);
      inflight_[next_id_] = {seq, Clock::now()};
    }
    Write();
    if (stopping_ && inflight_.empty() && !done_) {
      done_ = true;
      std::vector<uint8_t> disc = {0xE0, 0x00};
      out_.insert(out_.end(), disc.begin(), disc.end());
      Write();
    }
  }
  void Write() {
    if (writing_ || out_.empty()) return;
    writing_ = true;
    wbuf_.swap(out_);
    out_.clear();
    asio::async_write(sock_, asio::buffer(wbuf_),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        self->writing_ = false;
                        if (ec) return self->Fail("write: " + ec.message());
                        self->Write();
                      });
  }
  void Read() {
    sock_.async_read_some(asio::buffer(rbuf_),
                          [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                            if (ec) {
                              if (!self->done_) self->Fail("read: " + ec.message());
                              return;
                            }
                            self->in_.insert(self->in_.end(), self->rbuf_, self->rbuf_ + n);
                            self->Parse();
                            if (!self->done_ || !self->inflight_.empty()) self->Read();
                          });
  }
  void Parse() {
    while (in_.size() >= 2) {
      size_t len = 0, mult = 1, i = 1;
      bool complete = false;
      for (; i < in_.size() && i < 5; ++i) {
        len += (in_[i] & 0x7f) * mult;
        mult *= 128;
        if (!(in_[i] & 0x80)) {
          complete = true;
          break;
        }
      }
      if (!complete || in_.size() < i + 1 + len) return;
      const uint8_t type = in_[0] >> 4;
      std::vector<uint8_t> body(in_.begin() + static_cast<long>(i + 1),
                                in_.begin() + static_cast<long>(i + 1 + len));
      in_.erase(in_.begin(), in_.begin() + static_cast<long>(i + 1 + len));
      OnPacket(type, body);
      if (done_ && inflight_.empty()) return;
    }
  }
  void OnPacket(uint8_t type, const std::vector<uint8_t>& body) {
    if (type == 2) {  // CONNACK
      if (body.size() < 2 || body[1] != 0) return Fail("CONNACK refused");
      return Publish();
    }
    if (body.size() < 2) return Fail("short packet");
    const uint16_t id = static_cast<uint16_t>((body[0] << 8) | body[1]);
    if (type == 5) {  // PUBREC -> PUBREL
      Frame(0x62, {body[0], body[1]}, &out_);
      return Write();
    }
    if (type != 4 && type != 7) return Fail("unexpected packet type " + std::to_string(type));
    if (body.size() >= 3 && body[2] >= 0x80) return Fail("negative ack");
    auto it = inflight_.find(id);
    if (it == inflight_.end()) return Fail("ack for an unknown packet id");
    s_.latency_us.push_back(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - it->second.second)
            .count());
    s_.acked++;
    s_.acked_seqs[index_].push_back(it->second.first);
    inflight_.erase(it);
    Publish();
  }

  tcp::socket sock_;
  Shared& s_;
  int index_;
  std::vector<uint8_t> out_, wbuf_, in_;
  uint8_t rbuf_[16384];
  bool writing_ = false, stopping_ = false, done_ = false;
  int64_t seq_ = 0;
  uint16_t next_id_ = 0;
  std::map<uint16_t, std::pair<int64_t, Clock::time_point>> inflight_;
};

// Every acknowledged (device, seq) must be a row of `events`. Returns the missing count.
int64_t VerifyDb(const std::string& path, const Shared& s, std::string* error) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    *error = sqlite3_errmsg(db);
    sqlite3_close(db);
    return -1;
  }
  sqlite3_busy_timeout(db, 5000);
  std::map<std::string, std::set<int64_t>> stored;
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT device_id, json_extract(payload_json, '$.seq') FROM events "
                     "WHERE device_id LIKE 'mqtt-lg-%'",
                     -1, &q, nullptr);
  while (q && sqlite3_step(q) == SQLITE_ROW) {
    stored[reinterpret_cast<const char*>(sqlite3_column_text(q, 0))].insert(
        sqlite3_column_int64(q, 1));
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  int64_t missing = 0;
  for (const auto& [conn, seqs] : s.acked_seqs) {
    const auto& have = stored["mqtt-lg-" + std::to_string(conn)];
    for (int64_t seq : seqs) missing += have.count(seq) ? 0 : 1;
  }
  return missing;
}

}  // namespace

int RunMqttLoad(const MqttLoadOptions& o, std::ostream& out, std::ostream& err) {
  std::string t = o.target;
  if (t.rfind("mqtt://", 0) != 0) {
    err << "cistern-loadgen: --mqtt must be mqtt://HOST:PORT\n";
    return 2;
  }
  t = t.substr(7);
  auto colon = t.rfind(':');
  if (colon == std::string::npos || (o.qos != 1 && o.qos != 2) || o.inflight < 1 ||
      o.inflight > 65535 || o.connections < 1) {
    err << "cistern-loadgen: --mqtt needs HOST:PORT, --mqtt-qos 1|2, --mqtt-inflight 1..65535\n";
    return 2;
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(t.substr(0, colon), ec);
  if (ec) {
    err << "cistern-loadgen: " << t.substr(0, colon) << " is not an IP address\n";
    return 2;
  }
  tcp::endpoint ep(address, static_cast<uint16_t>(std::stoi(t.substr(colon + 1))));
  asio::io_context ioc(1);
  Shared s;
  s.o = o;
  const auto start = Clock::now();
  s.end = start + o.duration;
  for (int i = 0; i < o.connections; ++i) std::make_shared<Conn>(ioc, s, i)->Start(ep);
  ioc.run();
  const double secs =
      std::chrono::duration_cast<std::chrono::duration<double>>(Clock::now() - start).count();
  std::sort(s.latency_us.begin(), s.latency_us.end());
  auto pct = [&](double p) {
    if (s.latency_us.empty()) return 0.0;
    size_t i = std::min(s.latency_us.size() - 1, static_cast<size_t>(p * s.latency_us.size()));
    return s.latency_us[i] / 1000.0;
  };
  char line[256];
  out << "target            " << o.target << "\n";
  std::snprintf(line, sizeof line,
                "load              %d connections x %d in flight, QoS %d, %.1f s\n", o.connections,
                o.inflight, o.qos, secs);
  out << line;
  out << "messages acked    " << s.acked << "\n";
  std::snprintf(line, sizeof line, "msgs/s            %.0f\n", s.acked / secs);
  out << line;
  std::snprintf(line, sizeof line, "ack latency ms    p50 %.2f  p99 %.2f  max %.2f\n", pct(0.5),
                pct(0.99), pct(1.0));
  out << line;
  out << "connection errors " << s.failures
      << (s.first_error.empty() ? "" : " (" + s.first_error + ")") << "\n";
  int64_t missing = 0;
  if (!o.verify_db.empty()) {
    std::string error;
    missing = VerifyDb(o.verify_db, s, &error);
    if (missing < 0) {
      out << "db check          cannot open: " << error << "\n";
      out << "FAIL: db check\n";
      return 1;
    }
    out << "db check          " << (missing == 0 ? "every acked message stored" : "MISSING") << " ("
        << missing << " missing)\n";
  }
  if (missing > 0 || s.failures > 0 || s.acked == 0) {
    out << "FAIL: " << missing << " acknowledged messages missing, " << s.failures
        << " connection errors\n";
    return 1;
  }
  out << "OK: every acknowledged message accounted for\n";
  return 0;
}

}  // namespace cistern::loadgen
