#include "sinks/mqtt/mqtt_sink.h"

#include <fmt/format.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/duration.h"

namespace cistern {
namespace {

using Clock = std::chrono::steady_clock;

// Seconds of silence after which the broker may drop us (it waits 1.5x). We do not ping
// between Sends (nothing runs then), so a connection idle this long is replaced instead.
constexpr int kKeepAliveSeconds = 60;
// Longest single wait inside mosquitto_loop, so deadlines are checked often.
constexpr std::chrono::milliseconds kLoopSlice{100};

Status InitLibraryOnce() {
  static std::once_flag once;
  static int rc = MOSQ_ERR_SUCCESS;  // written once, inside call_once
  std::call_once(once, [] { rc = mosquitto_lib_init(); });
  if (rc != MOSQ_ERR_SUCCESS) {
    return Status::Internal(std::string("mqtt: mosquitto_lib_init: ") + mosquitto_strerror(rc));
  }
  return Status::Ok();
}

// libmosquitto's text for rc; MOSQ_ERR_ERRNO means the reason is in errno.
std::string ErrorText(int rc, int saved_errno) {
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(saved_errno);
  return mosquitto_strerror(rc);
}

constexpr size_t kMaxTopicBytes = 65535;  // MQTT's length prefix is 16 bits
// Message ids are 16 bits and libmosquitto assigns them at publish time, queued or not: never
// let more than half the id space await acks, so ids cannot repeat within a batch of any size.
constexpr size_t kMaxPendingIds = 32768;

// Bytes of the UTF-8 sequence that starts with `lead` (1 for a stray byte).
size_t SequenceLength(unsigned char lead) {
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  return 1;
}

// Replaces with '_' every character MQTT forbids in a topic, so a device id or kind the
// ingest accepted (it rejects only ASCII controls) cannot make a batch unpublishable: invalid
// UTF-8, NUL, C0/C1 controls and the noncharacters libmosquitto rejects (U+FFFE, U+FFFF...).
// mosquitto_validate_utf8 is the judge, one character at a time. The template's literal parts
// were validated in MakeMqttSink, so this only ever touches substituted values.
void ReplaceForbiddenInTopic(std::string* topic) {
  std::string& t = *topic;
  auto printable_ascii = [](unsigned char c) { return c >= 0x20 && c < 0x7F; };
  if (std::all_of(t.begin(), t.end(), printable_ascii)) return;  // the usual case
  std::string out;
  out.reserve(t.size());
  for (size_t i = 0; i < t.size();) {
    auto c = static_cast<unsigned char>(t[i]);
    if (printable_ascii(c)) {
      out += t[i++];
      continue;
    }
    size_t len = std::min(SequenceLength(c), t.size() - i);
    if (mosquitto_validate_utf8(t.data() + i, static_cast<int>(len)) == MOSQ_ERR_SUCCESS) {
      out.append(t, i, len);
      i += len;
      continue;
    }
    // One '_' for the lead byte and the continuation bytes that follow it, so a valid but
    // forbidden character becomes one '_' and the bytes after a broken one survive.
    out += '_';
    size_t end = i + len;
    for (++i; i < end && (static_cast<unsigned char>(t[i]) & 0xC0) == 0x80; ++i) {
    }
  }
  t = std::move(out);
}

struct MosqDeleter {
  void operator()(mosquitto* m) const { mosquitto_destroy(m); }
};
using MosqPtr = std::unique_ptr<mosquitto, MosqDeleter>;

// Thread-safety: none needed. Send() is never called concurrently (sink contract) and we run
// libmosquitto's loop ourselves inside Send(), so the callbacks below run on the Send thread.
class MqttSink final : public Sink {
 public:
  MqttSink(MqttOptions options, MqttAddress address)
      : options_(std::move(options)), address_(std::move(address)) {}
  ~MqttSink() override { Reset(); }
  MqttSink(const MqttSink&) = delete;
  MqttSink& operator=(const MqttSink&) = delete;

  std::string name() const override { return "mqtt"; }
  SendResult Send(const UploadBatch& batch) override;

 private:
  static void OnConnect(mosquitto*, void* self, int rc) {
    auto* sink = static_cast<MqttSink*>(self);
    sink->connack_rc_ = rc;
    sink->connected_ = rc == 0;
  }
  static void OnDisconnect(mosquitto*, void* self, int) {
    static_cast<MqttSink*>(self)->connected_ = false;
  }
  // PUBACK (qos 1) or PUBCOMP (qos 2) for `mid`.
  static void OnPublish(mosquitto*, void* self, int mid) {
    auto* sink = static_cast<MqttSink*>(self);
    if (sink->pending_.erase(mid) == 1) ++sink->acked_;
  }

  // Replaces any client with a fresh one and waits for the CONNACK until `deadline`.
  // Returns Unavailable with the reason on failure.
  Status Connect(const std::string& node_id, Clock::time_point deadline);
  // Drops the client and everything libmosquitto still queued in it.
  void Reset();
  // Runs the loop until at most `max_pending` publishes await their ack. Returns the Retry
  // to give when the deadline passes or the connection is lost first, else nullopt.
  std::optional<SendResult> DrainAcks(size_t max_pending, size_t n, Clock::time_point deadline);
  // One turn of the network loop, waiting for traffic at most until `deadline` (capped at
  // kLoopSlice). Returns Unavailable with the reason when the connection failed.
  Status Loop(Clock::time_point deadline);
  std::string Peer() const { return fmt::format("{}:{}", address_.host, address_.port); }

  // Constant after construction.
  const MqttOptions options_;
  const MqttAddress address_;

  // Touched only inside Send() / the destructor (and the callbacks they run).
  MosqPtr mosq_;
  bool connected_ = false;  // CONNACK accepted and not disconnected since
  int connack_rc_ = -1;     // last CONNACK code; -1 before one arrived
  Clock::time_point last_used_;
  std::unordered_map<int, size_t> pending_;  // message id -> event index, not yet acked
  size_t acked_ = 0;                         // events of the current batch acknowledged
};

void MqttSink::Reset() {
  if (mosq_ && connected_) mosquitto_disconnect(mosq_.get());  // best effort, written at once
  mosq_.reset();
  connected_ = false;
  connack_rc_ = -1;
  pending_.clear();
  acked_ = 0;
}

Status MqttSink::Loop(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  int wait_ms =
      static_cast<int>(std::clamp(left, std::chrono::milliseconds(0), kLoopSlice).count());
  // Re-armed before every wait (Linux clears it): PUBACKs are tiny, and a broker with Nagle on
  // (mosquitto's default: set_tcp_nodelay false) holds each burst until we ACK the previous
  // one, which our delayed ACK postpones by up to 40 ms. Against a default mosquitto this
  // took a 500-event batch from ~45 ms to ~8 ms here.
  int fd = mosquitto_socket(mosq_.get());
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
  }
  errno = 0;
  int rc = mosquitto_loop(mosq_.get(), wait_ms, 1);
  if (rc == MOSQ_ERR_SUCCESS) return Status::Ok();
  int saved_errno = errno;
  connected_ = false;
  return Status::Unavailable(ErrorText(rc, saved_errno));
}

Status MqttSink::Connect(const std::string& node_id, Clock::time_point deadline) {
  Reset();
  const std::string id = options_.client_id.empty() ? "cistern-" + node_id : options_.client_id;
  // clean_session: no broker-side session. Delivery rests on the uploader re-shipping a
  // failed batch, so there is nothing a session would add but state left on the broker.
  errno = 0;
  mosq_.reset(mosquitto_new(id.c_str(), /*clean_session=*/true, this));
  if (!mosq_) {
    return Status::Unavailable(
        fmt::format("mqtt: cannot create client \"{}\": {}", id, std::strerror(errno)));
  }
  mosquitto_int_option(mosq_.get(), MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_int_option(mosq_.get(), MOSQ_OPT_TCP_NODELAY, 1);
  int rc = mosquitto_int_option(mosq_.get(), MOSQ_OPT_SEND_MAXIMUM, options_.max_inflight);
  if (rc != MOSQ_ERR_SUCCESS) {
    return Status::Unavailable("mqtt: cannot set max in-flight: " + ErrorText(rc, 0));
  }
  mosquitto_connect_callback_set(mosq_.get(), &MqttSink::OnConnect);
  mosquitto_disconnect_callback_set(mosq_.get(), &MqttSink::OnDisconnect);
  mosquitto_publish_callback_set(mosq_.get(), &MqttSink::OnPublish);

  // Non-blocking TCP connect (name resolution still blocks), so a host that never answers
  // costs at most the timeout; the CONNECT goes out and the CONNACK arrives in Loop().
  // (mosquitto.h steers connect_async users to loop_start, but loop_start's thread only calls
  // mosquitto_loop, as we do; the blocking mosquitto_connect could hang for minutes on a
  // host that drops SYNs. Tested: refused, silent peer, broker down and back.)
  errno = 0;
  rc =
      mosquitto_connect_async(mosq_.get(), address_.host.c_str(), address_.port, kKeepAliveSeconds);
  if (rc != MOSQ_ERR_SUCCESS) {
    std::string why = ErrorText(rc, errno);
    Reset();
    return Status::Unavailable(fmt::format("mqtt: cannot connect to {}: {}", Peer(), why));
  }
  while (!connected_) {
    if (Clock::now() >= deadline) {
      Reset();
      return Status::Unavailable(fmt::format("mqtt: no CONNACK from {} within {}", Peer(),
                                             FormatDuration(options_.timeout)));
    }
    Status s = Loop(deadline);
    if (connack_rc_ > 0) {
      std::string why = mosquitto_connack_string(connack_rc_);
      Reset();
      return Status::Unavailable(fmt::format("mqtt: {} refused the connection: {}", Peer(), why));
    }
    if (!s.ok()) {
      Reset();
      return Status::Unavailable(
          fmt::format("mqtt: cannot connect to {}: {}", Peer(), s.message()));
    }
  }
  last_used_ = Clock::now();
  return Status::Ok();
}

SendResult MqttSink::Send(const UploadBatch& batch) {
  const auto deadline = Clock::now() + options_.timeout;
  const size_t n = batch.size();

  // Every topic first: a batch that can never be published fails before any of it is sent.
  std::vector<std::string> topics;
  topics.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string topic = FillTemplate(options_.topic, batch, i, /*nats=*/false);
    ReplaceForbiddenInTopic(&topic);
    if (topic.empty() || topic.size() > kMaxTopicBytes) {
      return SendResult::Permanent(fmt::format(
          "mqtt: event {} has an empty or over-long topic ({} bytes)", batch.ids[i], topic.size()));
    }
    topics.push_back(std::move(topic));
  }

  // Do not trust a connection that may have outlived the broker's keepalive, and pick up a
  // close that happened while idle.
  if (mosq_ && Clock::now() - last_used_ >= std::chrono::seconds(kKeepAliveSeconds)) Reset();
  if (mosq_ && connected_ && !Loop(Clock::now()).ok()) Reset();
  if (!mosq_ || !connected_) {
    if (Status s = Connect(batch.node_id, deadline); !s.ok()) {
      return SendResult::Retry(s.message());
    }
  }

  pending_.clear();
  pending_.reserve(n);
  acked_ = 0;
  std::string payload;
  for (size_t i = 0; i < n; ++i) {
    payload.clear();
    AppendEventJson(batch, i, &payload);
    int mid = 0;
    errno = 0;
    int rc = mosquitto_publish(mosq_.get(), &mid, topics[i].c_str(),
                               static_cast<int>(payload.size()), payload.data(), options_.qos,
                               /*retain=*/false);
    if (rc == MOSQ_ERR_SUCCESS) {
      if (!pending_.emplace(mid, i).second) {  // kMaxPendingIds makes this unreachable
        Reset();
        return SendResult::Retry(fmt::format("mqtt: message id {} reused before its ack", mid));
      }
      if (pending_.size() >= kMaxPendingIds) {
        if (auto failed = DrainAcks(kMaxPendingIds / 2, n, deadline)) return *failed;
      }
      continue;
    }
    std::string why = ErrorText(rc, errno);
    Reset();
    if (rc == MOSQ_ERR_PAYLOAD_SIZE || rc == MOSQ_ERR_OVERSIZE_PACKET || rc == MOSQ_ERR_INVAL ||
        rc == MOSQ_ERR_MALFORMED_UTF8) {
      return SendResult::Permanent(
          fmt::format("mqtt: event {} cannot be published: {}", batch.ids[i], why));
    }
    return SendResult::Retry(
        fmt::format("mqtt: publish to {} failed after {} of {} events: {}", Peer(), i, n, why));
  }

  if (auto failed = DrainAcks(0, n, deadline)) return *failed;
  pending_.clear();
  last_used_ = Clock::now();
  return SendResult::Ok();
}

std::optional<SendResult> MqttSink::DrainAcks(size_t max_pending, size_t n,
                                              Clock::time_point deadline) {
  while (pending_.size() > max_pending) {
    if (Clock::now() >= deadline) {
      size_t missing = n - acked_;
      Reset();
      return SendResult::Retry(fmt::format("mqtt: {} of {} publishes not acknowledged within {}",
                                           missing, n, FormatDuration(options_.timeout)));
    }
    Status s = Loop(deadline);
    if (!s.ok() && pending_.size() > max_pending) {
      size_t missing = n - acked_;
      Reset();
      return SendResult::Retry(
          fmt::format("mqtt: connection to {} lost with {} of {} publishes not acknowledged: {}",
                      Peer(), missing, n, s.message()));
    }
  }
  return std::nullopt;
}

// Parses a decimal port in 1..65535.
bool ParsePort(std::string_view text, int* port) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *port);
  return ec == std::errc() && end == text.data() + text.size() && *port > 0 && *port <= 65535;
}

}  // namespace

Result<MqttAddress> ParseMqttUrl(std::string_view url) {
  auto bad = [url](std::string_view why) {
    return Status::InvalidArgument(fmt::format("mqtt url \"{}\": {}", url, why));
  };
  std::string_view rest;
  if (url.starts_with("mqtt://")) {
    rest = url.substr(7);
  } else if (url.starts_with("tcp://")) {
    rest = url.substr(6);
  } else if (url.starts_with("mqtts://") || url.starts_with("ssl://")) {
    return bad("TLS is not supported");
  } else {
    return bad("expected mqtt://host[:port]");
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find('@') != std::string_view::npos) return bad("credentials are not supported");
  if (rest.find('/') != std::string_view::npos) return bad("unexpected path");
  MqttAddress address;
  std::string_view port_text;
  if (rest.starts_with('[')) {  // [v6]:port
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad("unterminated [");
    address.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("expected :port after ]");
      port_text = after.substr(1);
      if (port_text.empty()) return bad("empty port");
    }
  } else {
    size_t colon = rest.find(':');
    address.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = rest.substr(colon + 1);
      if (port_text.empty()) return bad("empty port");
    }
  }
  if (address.host.empty()) return bad("missing host");
  if (!port_text.empty() && !ParsePort(port_text, &address.port)) return bad("bad port");
  return address;
}

Result<std::unique_ptr<Sink>> MakeMqttSink(const MqttOptions& options) {
  Result<MqttAddress> address = ParseMqttUrl(options.url);
  if (!address.ok()) return address.status();
  if (options.qos != 1 && options.qos != 2) {
    return Status::InvalidArgument(fmt::format(
        "mqtt qos {}: must be 1 or 2 (qos 0 has no acknowledgement to wait for)", options.qos));
  }
  if (options.timeout <= std::chrono::milliseconds(0)) {
    return Status::InvalidArgument("mqtt timeout must be positive");
  }
  if (options.max_inflight < 1 || options.max_inflight > 65535) {
    return Status::InvalidArgument("mqtt max in-flight must be in 1..65535");
  }
  // Substituted values cannot hold '+', '#' or '/', so checking the template filled with
  // plain values checks its literal parts.
  UploadBatch probe;
  probe.node_id = "n";
  probe.ids = {1};
  probe.events.Add("d", "k", "", false, 1);
  std::string topic = FillTemplate(options.topic, probe, 0, /*nats=*/false);
  if (topic.empty() || mosquitto_pub_topic_check(topic.c_str()) != MOSQ_ERR_SUCCESS ||
      mosquitto_validate_utf8(topic.data(), static_cast<int>(topic.size())) != MOSQ_ERR_SUCCESS) {
    return Status::InvalidArgument(fmt::format(
        "mqtt topic \"{}\": not a valid publish topic (empty, or contains + or #)", options.topic));
  }
  if (Status s = InitLibraryOnce(); !s.ok()) return s;
  return std::unique_ptr<Sink>(std::make_unique<MqttSink>(options, *std::move(address)));
}

}  // namespace cistern
