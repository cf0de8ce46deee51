#include "ingest/otlp_routes.h"

#include <boost/beast/core/string.hpp>
#include <string_view>

#include "common/clock.h"
#include "common/json_writer.h"
#include "event/gzip.h"
#include "event/otlp/response.h"
#include "ingest/http_status.h"
#include "ingest/http_types.h"

namespace cistern {
namespace {

namespace beast = boost::beast;

constexpr std::string_view kProtobufType = "application/x-protobuf";
constexpr std::string_view kJsonType = "application/json";

// google.rpc.Status codes used in error bodies (OTLP spec, "Failures").
int RpcCode(http::status status) {
  switch (status) {
    case http::status::bad_request:
    case http::status::unsupported_media_type:
      return 3;  // INVALID_ARGUMENT
    case http::status::payload_too_large:
      return 8;  // RESOURCE_EXHAUSTED
    case http::status::service_unavailable:
      return 14;  // UNAVAILABLE
    default:
      return 13;  // INTERNAL
  }
}

void AppendVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// A google.rpc.Status {code = 1, message = 2} in the given encoding.
std::string RpcStatus(int code, std::string_view message, OtlpEncoding encoding) {
  if (encoding == OtlpEncoding::kProtobuf) {
    std::string out;
    out.push_back(0x08);
    AppendVarint(static_cast<uint64_t>(code), &out);
    out.push_back(0x12);
    AppendVarint(message.size(), &out);
    out.append(message);
    return out;
  }
  JsonWriter w;
  w.BeginObject();
  w.Key("code");
  w.Int(code);
  w.Key("message");
  w.String(message);
  w.EndObject();
  return w.Take();
}

std::string_view TypeOf(OtlpEncoding encoding) {
  return encoding == OtlpEncoding::kProtobuf ? kProtobufType : kJsonType;
}

Response Reply(http::status status, OtlpEncoding encoding, std::string body, unsigned version,
               bool keep_alive) {
  Response res{status, version};
  res.set(http::field::server, "cistern");
  res.set(http::field::content_type, TypeOf(encoding));
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response ErrorReply(const Status& s, OtlpEncoding encoding, int retry_after_seconds,
                    unsigned version, bool keep_alive) {
  // OTLP clients retry only 429/502/503/504, so a full disk or an I/O error is a 503 here
  // (POST /events says 507 / 500; docs/otlp.md).
  http::status status = HttpStatusOf(s, StoreErrors::kUnavailable);
  Response res = Reply(status, encoding, RpcStatus(RpcCode(status), s.message(), encoding), version,
                       keep_alive);
  if (status == http::status::service_unavailable) {
    res.set(http::field::retry_after, std::to_string(retry_after_seconds));
  }
  return res;
}

}  // namespace

bool OtlpPath(std::string_view path, OtlpSignal* signal) {
  if (path == "/v1/logs") {
    *signal = OtlpSignal::kLogs;
    return true;
  }
  if (path == "/v1/metrics") {
    *signal = OtlpSignal::kMetrics;
    return true;
  }
  return false;
}

OtlpRoutes::OtlpRoutes(std::shared_ptr<Store> store) : store_(std::move(store)) {}

void OtlpRoutes::Handle(OtlpSignal signal, const OtlpRouteOptions& options, Request&& req,
                        const Post& post, Done done, IngestOutcome* outcome) const {
  const int retry_after = options.retry_after_seconds;
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();
  const bool logs = signal == OtlpSignal::kLogs;

  std::string_view type(req[http::field::content_type]);
  OtlpEncoding encoding;
  if (MediaTypeIs(type, kProtobufType)) {
    encoding = OtlpEncoding::kProtobuf;
  } else if (MediaTypeIs(type, kJsonType)) {
    encoding = OtlpEncoding::kJson;
  } else {
    outcome->Refuse("parse", Status::Unsupported("unsupported Content-Type '" + std::string(type) +
                                                 "' (use application/x-protobuf or "
                                                 "application/json)"));
    return done(ErrorReply(outcome->reason, OtlpEncoding::kJson, retry_after, version, keep_alive));
  }
  outcome->format = encoding == OtlpEncoding::kProtobuf ? "protobuf" : "json";
  auto fail = [&](const char* layer, const Status& s) {
    outcome->Refuse(layer, s);
    done(ErrorReply(s, encoding, retry_after, version, keep_alive));
  };

  std::string& body = req.body();
  std::string_view content_encoding(req[http::field::content_encoding]);
  if (beast::iequals(content_encoding, "gzip")) {
    std::string inflated;
    if (Status s = Gunzip(body, options.max_body_bytes, &inflated); !s.ok()) {
      return fail("parse", s);
    }
    body.swap(inflated);
  } else if (!content_encoding.empty() && !beast::iequals(content_encoding, "identity")) {
    return fail("parse",
                Status::Unsupported("unsupported Content-Encoding '" +
                                    std::string(content_encoding) + "' (use gzip or none)"));
  }

  // Fail fast while the buffer refuses: no decode work for a request that cannot be stored.
  if (!store_->Accepting()) {
    Status health = store_->Health();
    return fail("store", health.ok() ? Status::BufferFull("buffer full; retry later") : health);
  }

  const int64_t now = UnixMillis();
  Result<OtlpDecoded> decoded =
      logs ? DecodeOtlpLogs(body, encoding, options.limits, now, options.decode)
           : DecodeOtlpMetrics(body, encoding, options.limits, now, options.decode);
  if (!decoded.ok()) return fail("parse", decoded.status());
  outcome->events = static_cast<int64_t>(decoded->events.size());

  OtlpPartialSuccess partial;
  AppendExtras extras;
  if (!decoded->rejected.empty()) {
    partial.present = true;
    partial.rejected = static_cast<int64_t>(decoded->rejected.size());
    partial.error_message =
        OtlpRejectedMessage(decoded->rejected, logs ? "log records" : "data points");
    extras.dead_letters.reserve(decoded->rejected.size());
    for (OtlpRejected& r : decoded->rejected) {
      DeadLetter d;
      d.source = logs ? "otlp-logs" : "otlp-metrics";
      d.reason = std::move(r.reason);
      d.origin = "record " + std::to_string(r.index) + " device_id=" + r.device_id +
                 " kind=" + r.kind + " ts=" + std::to_string(r.ts);
      d.body = std::move(r.payload_json);
      extras.dead_letters.push_back(std::move(d));
    }
  }
  auto encode = [logs, encoding](const OtlpPartialSuccess& p) {
    return logs ? EncodeOtlpLogsResponse(p, encoding) : EncodeOtlpMetricsResponse(p, encoding);
  };
  if (decoded->events.empty() && extras.empty()) {
    // An empty request is valid OTLP: nothing to commit.
    return done(Reply(http::status::ok, encoding, encode(partial), version, keep_alive));
  }

  store_->Append(
      std::move(decoded->events), std::move(extras),
      [post, done = std::move(done), encoding, version, keep_alive, outcome, retry_after,
       ok_body = encode(partial)](const AppendResult& r) {
        // Runs on the writer thread: hand the result to the connection and return at
        // once.
        post([done, r, encoding, version, keep_alive, outcome, retry_after, ok_body] {
          if (!r.status.ok()) {
            outcome->Refuse("store", r.status);
            return done(ErrorReply(r.status, encoding, retry_after, version, keep_alive));
          }
          if (r.count > 0) outcome->first_id = r.first_id;
          done(Reply(http::status::ok, encoding, ok_body, version, keep_alive));
        });
      });
}

}  // namespace cistern
