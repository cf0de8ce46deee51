#include "sinks/nats/nats_sink.h"

#include <nats/nats.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace cistern {
namespace {

// Async publishes in flight at once. A batch (default 500, at most a few thousand) never
// stalls on it; it only bounds memory if someone sends a huge batch.
constexpr int64_t kMaxPending = 65536;
// The connect timeout per server, capped so that a black-holed URL does not eat the batch.
constexpr int64_t kMaxConnectTimeoutMs = 5000;
// Between reconnect attempts to the same server (other servers of the list are tried at once).
constexpr int64_t kReconnectWaitMs = 500;
// Half-open connections (a peer that vanished without a FIN) are noticed after
// kPingIntervalMs * kMaxPingsOut.
constexpr int64_t kPingIntervalMs = 10000;
constexpr int kMaxPingsOut = 3;
// "No responders" means no stream leader took the message: normal while a cluster elects one
// (measured 4-6 s with nats-server 2.9 after a SIGKILL), or the stream is gone (a server that
// lost its store). A stream lookup during an election only times out, so the stream is looked
// up again only when batches kept meeting "no responders" for longer than an election takes.
constexpr std::chrono::seconds kNoRespondersBeforeLookup{15};
// How long to wait for PubAck callbacks that were already running when a batch was given up.
constexpr int64_t kCallbackDrainMs = 1000;

struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};
struct ConnectionDeleter {
  void operator()(natsConnection* c) const { natsConnection_Destroy(c); }
};
struct JsDeleter {
  void operator()(jsCtx* js) const { jsCtx_Destroy(js); }
};
using NatsOptionsPtr = std::unique_ptr<natsOptions, OptionsDeleter>;
using ConnectionPtr = std::unique_ptr<natsConnection, ConnectionDeleter>;
using JsPtr = std::unique_ptr<jsCtx, JsDeleter>;

// "a, b,,c" -> {"a", "b", "c"}
std::vector<std::string> SplitUrls(std::string_view list) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos <= list.size();) {
    size_t comma = std::min(list.find(',', pos), list.size());
    std::string_view one = list.substr(pos, comma - pos);
    size_t b = one.find_first_not_of(" \t"), e = one.find_last_not_of(" \t");
    if (b != std::string_view::npos) out.emplace_back(one.substr(b, e - b + 1));
    pos = comma + 1;
  }
  return out;
}

// "nats://user:secret@host:4222" -> "nats://host:4222": messages never carry credentials.
std::string Redact(std::string_view url) {
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  size_t at = url.find('@', start);
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, start)) + std::string(url.substr(at + 1));
}

// The status text, plus libnats' more precise per-thread error text when it is about `s`.
std::string Describe(natsStatus s) {
  std::string out = natsStatus_GetText(s);
  natsStatus last = NATS_OK;
  const char* raw = nats_GetLastError(&last);
  std::string_view text = raw != nullptr ? raw : "";
  if (size_t cut = text.find("): "); !text.empty() && text[0] == '(' && cut != text.npos) {
    text.remove_prefix(cut + 3);  // drop the "(pub.c:130): " source location
  }
  if (!text.empty() && last == s && text != out) out += " (" + std::string(text) + ")";
  return out;
}

// A publishable subject template: not empty, no whitespace, no wildcards, no empty tokens,
// and only the placeholders FillTemplate knows.
Status CheckSubjectTemplate(std::string_view t) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("nats: invalid subject template '" + std::string(t) +
                                   "': " + why);
  };
  if (t.empty()) return bad("empty");
  if (t.front() == '.' || t.back() == '.' || t.find("..") != std::string_view::npos) {
    return bad("empty token");
  }
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '<') {
      size_t close = t.find('>', i);
      std::string_view name = t.substr(i + 1, close == std::string_view::npos ? 0 : close - i - 1);
      if (name != "device_id" && name != "kind" && name != "node_id") {
        return bad("placeholders are <device_id>, <kind> and <node_id>");
      }
      i = close;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '*' || c == '>') {
      return bad("whitespace or wildcard");
    }
  }
  return Status::Ok();
}

Status CheckStreamName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("nats: stream name is empty");
  if (name.find_first_of(".*>/\\ \t") == std::string_view::npos) return Status::Ok();
  return Status::InvalidArgument("nats: invalid stream name '" + std::string(name) +
                                 "' (no '.', '*', '>', '/', '\\' or whitespace)");
}

// Counts the PubAcks of the batch being sent. libnats calls OnAck on its reply thread.
struct AckCounter {
  std::mutex mu;
  bool open = false;           // guarded by mu: a batch is being counted
  int64_t acked = 0;           // guarded by mu: positive acks, duplicates included
  int64_t duplicates = 0;      // guarded by mu
  bool no_responders = false;  // guarded by mu
  bool too_large = false;      // guarded by mu
  std::string first_error;     // guarded by mu

  void Open() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    acked = duplicates = 0;
    no_responders = too_large = false;
    first_error.clear();
  }

  static void OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<AckCounter*>(closure);
    {
      std::lock_guard<std::mutex> lock(self->mu);
      if (self->open && pa != nullptr) {
        ++self->acked;
        if (pa->Duplicate) ++self->duplicates;
      } else if (self->open && pae != nullptr) {
        bool no_responders = pae->Err == NATS_NO_RESPONDERS;
        self->no_responders |= no_responders;
        self->too_large |= pae->ErrCode == JSStreamMessageExceedsMaximumErr;
        if (self->first_error.empty()) {
          self->first_error = no_responders ? "no responders"
                              : (pae->ErrText != nullptr && *pae->ErrText != '\0')
                                  ? pae->ErrText
                                  : natsStatus_GetText(pae->Err);
        }
      }
    }
    natsMsg_Destroy(msg);  // the handler owns the published message
  }
};

void OnConnected(natsConnection*, void*) {}  // needed for a non-blocking first connect

using Clock = std::chrono::steady_clock;

// Milliseconds until `deadline`, at least 1 (0 means "no limit" to libnats).
int64_t MsLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max<int64_t>(1, left.count());
}

class NatsSink final : public Sink {
 public:
  NatsSink(NatsOptions options, std::string display, std::string stream_subject,
           NatsOptionsPtr nats_options)
      : options_(std::move(options)),
        display_(std::move(display)),
        stream_subject_(std::move(stream_subject)),
        nats_options_(std::move(nats_options)) {}

  std::string name() const override { return "nats"; }

  SendResult Send(const UploadBatch& batch) override {
    if (batch.empty()) return SendResult::Ok();
    auto deadline = Clock::now() + options_.timeout;
    if (SendResult r = Connect(); !r.ok()) return r;
    if (!stream_ready_) {
      if (SendResult r = EnsureStream(deadline); !r.ok()) return r;
    }
    return Publish(batch, deadline);
  }

 private:
  int64_t TimeoutMs() const { return static_cast<int64_t>(options_.timeout.count()); }

  // Creates the connection once (it then reconnects by itself) and says whether it is up.
  SendResult Connect() {
    if (nc_ != nullptr && natsConnection_IsClosed(nc_.get())) {
      js_.reset();
      nc_.reset();
    }
    if (nc_ == nullptr) {
      natsConnection* nc = nullptr;
      natsStatus s = natsConnection_Connect(&nc, nats_options_.get());
      if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
        natsConnection_Destroy(nc);
        std::string why = "nats: connect to " + display_ + ": " + Describe(s);
        if (s == NATS_INVALID_ARG) return SendResult::Permanent(why);
        return SendResult::Retry(why);
      }
      nc_.reset(nc);
      jsOptions jo;
      jsOptions_Init(&jo);
      jo.Wait = TimeoutMs();
      jo.PublishAsync.MaxPending = kMaxPending;
      jo.PublishAsync.StallWait = TimeoutMs();
      jo.PublishAsync.AckHandler = &AckCounter::OnAck;
      jo.PublishAsync.AckHandlerClosure = &acks_;
      jsCtx* js = nullptr;
      if (s = natsConnection_JetStream(&js, nc_.get(), &jo); s != NATS_OK) {
        nc_.reset();
        return SendResult::Retry("nats: JetStream context: " + Describe(s));
      }
      js_.reset(js);
      stream_ready_ = false;
    }
    if (natsConnection_Status(nc_.get()) != NATS_CONN_STATUS_CONNECTED) {
      return SendResult::Retry("nats: not connected to " + display_ +
                               " (reconnecting in the background)");
    }
    return SendResult::Ok();
  }

  // Looks the stream up and creates it when it does not exist.
  SendResult EnsureStream(Clock::time_point deadline) {
    const std::string where = "nats: stream " + options_.stream + ": ";
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = MsLeft(deadline);
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&si, js_.get(), options_.stream.c_str(), &jo, &jerr);
    jsStreamInfo_Destroy(si);
    si = nullptr;
    if (s == NATS_OK) {
      stream_ready_ = true;
      return SendResult::Ok();
    }
    if (s != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr) {
      return SendResult::Retry(where + "lookup failed: " + Describe(s));
    }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char* subjects[] = {stream_subject_.c_str()};
    cfg.Name = options_.stream.c_str();
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = options_.replicas;
    jerr = static_cast<jsErrCode>(0);
    jo.Wait = MsLeft(deadline);
    s = js_AddStream(&si, js_.get(), &cfg, &jo, &jerr);
    jsStreamInfo_Destroy(si);
    if (s == NATS_OK || jerr == JSStreamNameExistErr) {  // created, or someone else did
      stream_ready_ = true;
      return SendResult::Ok();
    }
    std::string why = where + "create (subjects " + stream_subject_ + ", replicas " +
                      std::to_string(options_.replicas) + ") failed: " + Describe(s);
    if (jerr == JSStreamReplicasNotSupportedErr || jerr == JSStreamSubjectOverlapErr) {
      return SendResult::Permanent(why);
    }
    return SendResult::Retry(why);
  }

  SendResult Publish(const UploadBatch& batch, Clock::time_point deadline) {
    const size_t n = batch.size();
    acks_.Open();
    std::string publish_error;
    bool publish_permanent = false;
    bool probe_failed = false;
    bool timed_out = false;
    std::string body;
    body.reserve(512);
    for (size_t i = 0; i < n; ++i) {
      body.clear();
      AppendEventJson(batch, i, &body);
      std::string subject = FillTemplate(options_.subject, batch, i, /*nats=*/true);
      std::string key = EventKey(batch, i);
      natsMsg* msg = nullptr;
      natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, body.data(),
                                    static_cast<int>(body.size()));
      if (s == NATS_OK) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MsgId = key.c_str();
        s = js_PublishMsgAsync(js_.get(), &msg, &po);
      }
      natsMsg_Destroy(msg);  // a no-op when the library took the message
      if (s != NATS_OK) {
        publish_error = "publishing id " + std::to_string(batch.ids[i]) + " to " + subject +
                        " failed: " + Describe(s);
        publish_permanent = s == NATS_MAX_PAYLOAD;
        break;
      }
      // Order: publishes are pipelined, so while a stream leader is being elected the head
      // of a batch can meet "no responders" and its tail be stored; the re-ship would then
      // land after that tail. After a failed batch (and for the first one) the first event
      // therefore goes alone: the rest follow only once it is stored, i.e. once the stream
      // has a leader again.
      if (i == 0 && n > 1 && !last_batch_ok_ &&
          (!WaitForAcks(deadline, &timed_out, &publish_error) || Acked() != 1)) {
        probe_failed = true;
        break;
      }
    }

    if (publish_error.empty() && !probe_failed) WaitForAcks(deadline, &timed_out, &publish_error);
    if (timed_out || !publish_error.empty()) AbandonPending();

    std::lock_guard<std::mutex> lock(acks_.mu);
    acks_.open = false;
    last_batch_ok_ = acks_.acked == static_cast<int64_t>(n);
    if (last_batch_ok_) {
      no_responders_since_.reset();
      return SendResult::Ok(acks_.duplicates);
    }
    if (!acks_.no_responders) {
      no_responders_since_.reset();
    } else if (!no_responders_since_) {
      no_responders_since_ = Clock::now();
    } else if (Clock::now() - *no_responders_since_ >= kNoRespondersBeforeLookup) {
      stream_ready_ = false;  // look it up (and re-create it if gone) before the next batch
      no_responders_since_.reset();
    }
    std::string reason = !acks_.first_error.empty() ? acks_.first_error
                         : !publish_error.empty()   ? publish_error
                         : timed_out ? "no PubAck within " + std::to_string(TimeoutMs()) + " ms"
                                     : "unknown";
    if (acks_.no_responders && reason == "no responders") {
      reason += " (stream " + options_.stream + " is electing a leader, or is missing)";
    }
    std::string why = "nats: " + std::to_string(static_cast<int64_t>(n) - acks_.acked) + " of " +
                      std::to_string(n) + " publishes not acknowledged: " + reason;
    if (publish_permanent || acks_.too_large) return SendResult::Permanent(why);
    return SendResult::Retry(why);
  }

  // Waits (until `deadline`) for the PubAcks of everything published so far. False when it
  // timed out (*timed_out) or failed (*error).
  bool WaitForAcks(Clock::time_point deadline, bool* timed_out, std::string* error) {
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = MsLeft(deadline);
    natsStatus s = js_PublishAsyncComplete(js_.get(), &wait);
    if (s == NATS_TIMEOUT) {
      *timed_out = true;
    } else if (s != NATS_OK) {
      *error = "waiting for PubAcks: " + Describe(s);
    }
    return s == NATS_OK;
  }

  int64_t Acked() {
    std::lock_guard<std::mutex> lock(acks_.mu);
    return acks_.acked;
  }

  // Gives up the PubAcks still outstanding, so that none of them is counted for a later
  // batch, then waits for callbacks that had already taken their message (libnats counts a
  // message as pending until its callback returned).
  void AbandonPending() {
    natsMsgList pending{};
    if (js_PublishAsyncGetPendingList(&pending, js_.get()) == NATS_OK) {
      natsMsgList_Destroy(&pending);
    }
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = kCallbackDrainMs;
    js_PublishAsyncComplete(js_.get(), &wait);
  }

  // Constant after construction.
  const NatsOptions options_;
  const std::string display_;  // the URL list without credentials, for messages
  const std::string stream_subject_;
  const NatsOptionsPtr nats_options_;
  // Outlives js_ (declared before it): libnats calls acks_.OnAck until js_ is gone.
  AckCounter acks_;
  // Used by the Send() thread only.
  ConnectionPtr nc_;
  JsPtr js_;  // destroyed before nc_
  bool stream_ready_ = false;
  bool last_batch_ok_ = false;  // false: the next batch's first event goes alone
  // Since when batches have been meeting "no responders" (unset: the last one did not).
  std::optional<Clock::time_point> no_responders_since_;
};

}  // namespace

Result<std::string> NatsStreamSubject(const NatsOptions& options) {
  if (!options.stream_subject.empty()) return options.stream_subject;
  std::string_view t = options.subject;
  size_t open = t.find('<');
  if (open == std::string_view::npos) return std::string(t);
  size_t last_dot = t.rfind('.', open);
  if (last_dot == std::string_view::npos) {
    return Status::InvalidArgument("nats: cannot derive a stream subject from '" + options.subject +
                                   "' (it starts with a placeholder); set the stream subject");
  }
  return std::string(t.substr(0, last_dot)) + ".>";
}

Result<std::unique_ptr<Sink>> MakeNatsSink(const NatsOptions& options) {
  std::vector<std::string> urls = SplitUrls(options.url);
  if (urls.empty()) return Status::InvalidArgument("nats: no server URL given");
  for (const auto& u : urls) {
    // libnats speaks nats:// and tls:// (a bare host:port means nats://); anything else (an
    // http:// URL pasted by mistake) would be retried forever as an outage.
    size_t scheme = u.find("://");
    if (scheme != std::string::npos && u.compare(0, scheme, "nats") != 0 &&
        u.compare(0, scheme, "tls") != 0) {
      return Status::InvalidArgument("nats: '" + Redact(u) +
                                     "' is not a NATS URL (use nats://host:4222 or tls://...)");
    }
  }
  if (Status st = CheckSubjectTemplate(options.subject); !st.ok()) return st;
  if (Status st = CheckStreamName(options.stream); !st.ok()) return st;
  if (options.timeout.count() <= 0) return Status::InvalidArgument("nats: timeout must be > 0");
  if (options.replicas < 1 || options.replicas > 5) {
    return Status::InvalidArgument("nats: replicas must be 1..5, got " +
                                   std::to_string(options.replicas));
  }
  Result<std::string> stream_subject = NatsStreamSubject(options);
  if (!stream_subject.ok()) return stream_subject.status();

  std::string display;
  for (const auto& u : urls) display += (display.empty() ? "" : ",") + Redact(u);

  natsOptions* raw = nullptr;
  if (natsOptions_Create(&raw) != NATS_OK) {
    return Status::Internal("nats: cannot create options: " + Describe(NATS_NO_MEMORY));
  }
  NatsOptionsPtr opts(raw);
  std::vector<const char*> servers;
  for (const auto& u : urls) servers.push_back(u.c_str());
  int64_t connect_ms = std::min<int64_t>(options.timeout.count(), kMaxConnectTimeoutMs);
  natsStatus s =
      natsOptions_SetServers(opts.get(), servers.data(), static_cast<int>(servers.size()));
  if (s != NATS_OK) {
    return Status::InvalidArgument("nats: invalid server list '" + display + "': " + Describe(s));
  }
  natsOptions* o = opts.get();
  for (natsStatus st :
       {natsOptions_SetName(o, "cistern"), natsOptions_SetTimeout(o, connect_ms),
        natsOptions_SetAllowReconnect(o, true), natsOptions_SetMaxReconnect(o, -1),  // forever
        natsOptions_SetReconnectWait(o, kReconnectWaitMs),
        natsOptions_SetPingInterval(o, kPingIntervalMs),
        natsOptions_SetMaxPingsOut(o, kMaxPingsOut),
        // Keep trying in the background when no server answers the first connect.
        natsOptions_SetRetryOnFailedConnect(o, true, &OnConnected, nullptr)}) {
    if (st != NATS_OK) return Status::Internal("nats: cannot set options: " + Describe(st));
  }

  return std::unique_ptr<Sink>(std::make_unique<NatsSink>(
      options, std::move(display), std::move(stream_subject).value(), std::move(opts)));
}

}  // namespace cistern
