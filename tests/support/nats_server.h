// Real nats-server processes for tests (/usr/sbin/nats-server 2.9, JetStream on), each with a
// generated config file in a temp dir, listening on 127.0.0.1 only, on free ports:
//   NatsServer   one standalone JetStream server;
//   NatsCluster  three servers joined by cluster routes on loopback (one JetStream cluster).
// Every process is stopped by PID (SIGTERM, then SIGKILL) in Stop() and in the destructor, so
// a failing test never leaks a server. Readiness = the monitoring endpoint /healthz answers
// 200, which for a cluster member also means it sees a JetStream meta leader.
//
// JsReader reads a stream back through libnats (js_GetStreamInfo / js_GetMsg), for
// assertions. Not thread-safe: use each object from one thread.
#pragma once

#include <nats/nats.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace cistern::testing {

class NatsCluster;

class NatsServer {
 public:
  // A standalone JetStream server in its own temp dir, started (check started()).
  NatsServer();
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  // True when the last Start() (or the constructor) saw the server ready.
  bool started() const { return started_; }
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  uint16_t port() const { return port_; }
  uint16_t http_port() const { return http_port_; }  // monitoring
  // nats://127.0.0.1:<port>
  std::string Url() const;

  // Starts the process (again) with the same config: same ports, same store, so a restarted
  // server has its streams back. Waits up to `timeout` for /healthz; returns started().
  bool Start(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // SIGTERM, then SIGKILL after 5 s. No-op when not running.
  void Stop();
  // SIGKILL: the server gets no chance to shut down cleanly.
  void Kill();
  // SIGSTOP / SIGCONT: a frozen server keeps its connections open but answers nothing, like a
  // peer behind a black-holed network.
  void Pause();
  void Resume();
  // What the server logged so far.
  std::string Log() const;
  // True when a client connection that called itself `client_name` is connected (/connz).
  bool HasClient(const std::string& client_name) const;

 private:
  friend class NatsCluster;
  struct ClusterSpec {
    uint16_t cluster_port = 0;
    std::vector<uint16_t> route_ports;
  };
  // A cluster member (not started yet); its files live in `dir`.
  NatsServer(std::string dir, std::string name, uint16_t port, uint16_t http_port,
             ClusterSpec cluster);
  void WriteConfig() const;
  bool Spawn();
  bool WaitReady(std::chrono::milliseconds timeout);
  void Signal(int sig, std::chrono::milliseconds wait);

  std::unique_ptr<TempDir> own_dir_;  // standalone only; members use the cluster's
  std::string dir_;
  std::string name_;
  uint16_t port_ = 0;
  uint16_t http_port_ = 0;
  ClusterSpec cluster_;
  pid_t pid_ = -1;
  bool started_ = false;
};

class NatsCluster {
 public:
  // Starts `nodes` servers named n0, n1, ... and waits (up to 30 s) until every one of them
  // sees a JetStream meta leader. Check started().
  explicit NatsCluster(int nodes = 3);
  ~NatsCluster();  // stops every node
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  bool started() const { return started_; }
  int size() const { return static_cast<int>(nodes_.size()); }
  NatsServer& node(int i) { return *nodes_[i]; }
  // Index of the node called `server_name` ("n1" -> 1), or -1.
  int IndexOf(const std::string& server_name) const;
  // Client URL of one node, and all of them comma-separated (what a client is given).
  std::string Url(int node) const { return nodes_[node]->Url(); }
  std::string Urls() const;
  // Index of a running node a client named `client_name` is connected to, or -1.
  int NodeWithClient(const std::string& client_name) const;
  // SIGKILL one node.
  void Kill(int node) { nodes_[node]->Kill(); }
  void Stop();

 private:
  TempDir dir_;  // declared first: removed after every node stopped
  std::vector<std::unique_ptr<NatsServer>> nodes_;
  bool started_ = false;
};

struct StoredMessage {
  uint64_t seq = 0;
  std::string subject;
  std::string data;
  std::string msg_id;  // the Nats-Msg-Id header
};

// A libnats client for inspecting streams.
class JsReader {
 public:
  // Connects to `urls` (comma-separated); check ok() / error().
  explicit JsReader(const std::string& urls);
  ~JsReader();
  JsReader(const JsReader&) = delete;
  JsReader& operator=(const JsReader&) = delete;

  bool ok() const { return js_ != nullptr; }
  const std::string& error() const { return error_; }

  // Messages currently in `stream`, or -1 (see error()).
  int64_t MessageCount(const std::string& stream);
  // Server name of the stream's leader ("" when unknown or not clustered).
  std::string StreamLeader(const std::string& stream);
  // Replicas of the stream's configuration, or -1.
  int64_t StreamReplicas(const std::string& stream);
  // Every message of the stream in sequence order (first..last sequence, by js_GetMsg).
  // Stops at the first error (see error()).
  std::vector<StoredMessage> Messages(const std::string& stream);

 private:
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  std::string error_;
};

}  // namespace cistern::testing
