// The HTTP listener's options (ingest/server.h) and the bounds of each connection on it
// (ingest/session.h, docs/api.md "limits at the edge"). Plain structs without Boost, so the
// daemon's Config (app/config.h) can hold them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace cistern {

struct SessionLimits {
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds header_timeout{30'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int io_threads = 2;
  size_t max_connections = 1024;
  SessionLimits session;
  std::chrono::milliseconds shutdown_grace{10'000};  // in-flight requests get this long
  // HTTPS on the same listener when both are set (PEM files: certificate chain, private key).
  std::string tls_cert;
  std::string tls_key;
};

}  // namespace cistern
