#include "support/nats_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "support/http_client.h"
#include "support/spawn.h"

namespace cistern::testing {
namespace {

constexpr const char* kNatsServerBinary = "/usr/sbin/nats-server";

// `n` distinct free loopback ports: all are bound at once (so they differ), then released for
// the server to take. Another process could grab one in between; on a test box that is rare.
std::vector<uint16_t> FreePorts(int n) {
  std::vector<int> fds;
  std::vector<uint16_t> ports;
  for (int i = 0; i < n; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      if (fd >= 0) close(fd);
      ports.push_back(0);
      continue;
    }
    fds.push_back(fd);
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) close(fd);
  return ports;
}

}  // namespace

// ---- NatsServer -------------------------------------------------------------------------

NatsServer::NatsServer() : own_dir_(std::make_unique<TempDir>()) {
  dir_ = own_dir_->path();
  name_ = "s0";
  std::vector<uint16_t> ports = FreePorts(2);
  port_ = ports[0];
  http_port_ = ports[1];
  WriteConfig();
  Start();
}

NatsServer::NatsServer(std::string dir, std::string name, uint16_t port, uint16_t http_port,
                       ClusterSpec cluster)
    : dir_(std::move(dir)),
      name_(std::move(name)),
      port_(port),
      http_port_(http_port),
      cluster_(std::move(cluster)) {
  WriteConfig();
}

NatsServer::~NatsServer() { Stop(); }

std::string NatsServer::Url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

void NatsServer::WriteConfig() const {
  std::ofstream f(dir_ + "/" + name_ + ".conf");
  f << "server_name: \"" << name_ << "\"\n"
    << "listen: \"127.0.0.1:" << port_ << "\"\n"
    << "http: \"127.0.0.1:" << http_port_ << "\"\n"
    << "jetstream {\n"
    << "  store_dir: \"" << dir_ << "/" << name_ << "-store\"\n"
    << "  max_memory_store: 64MB\n"
    << "  max_file_store: 1GB\n"
    << "}\n";
  if (cluster_.cluster_port != 0) {
    f << "cluster {\n"
      << "  name: \"cistern\"\n"
      << "  listen: \"127.0.0.1:" << cluster_.cluster_port << "\"\n"
      << "  routes: [\n";
    for (uint16_t p : cluster_.route_ports) f << "    \"nats-route://127.0.0.1:" << p << "\"\n";
    f << "  ]\n"
      << "}\n";
  }
}

bool NatsServer::Spawn() {
  if (pid_ > 0) return true;
  std::string config = dir_ + "/" + name_ + ".conf";
  std::string log = dir_ + "/" + name_ + ".log";
  pid_t pid = SpawnWithLog({kNatsServerBinary, "-c", config}, log);
  pid_ = pid;
  return pid > 0;
}

bool NatsServer::WaitReady(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (pid_ <= 0 || waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: config error?
      pid_ = -1;
      return started_ = false;
    }
    HttpClient client("127.0.0.1", http_port_, std::chrono::milliseconds(500));
    if (client.Get("/healthz").status == 200) return started_ = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return started_ = false;
}

bool NatsServer::Start(std::chrono::milliseconds timeout) {
  started_ = false;
  if (!Spawn()) return false;
  return WaitReady(timeout);
}

void NatsServer::Signal(int sig, std::chrono::milliseconds wait) {
  if (pid_ <= 0) return;
  kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (pid_ > 0) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  started_ = false;
}

void NatsServer::Pause() {
  if (pid_ <= 0) return;
  kill(pid_, SIGSTOP);
  // The signal is asynchronous: wait until the process shows as stopped ("T" in /proc).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string stat = ReadFile("/proc/" + std::to_string(pid_) + "/stat");
    size_t paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'T') break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void NatsServer::Resume() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

void NatsServer::Stop() {
  Resume();  // a stopped process would not act on SIGTERM
  Signal(SIGTERM, std::chrono::seconds(5));
  Signal(SIGKILL, std::chrono::seconds(5));
}

void NatsServer::Kill() { Signal(SIGKILL, std::chrono::seconds(5)); }

std::string NatsServer::Log() const { return ReadFile(dir_ + "/" + name_ + ".log"); }

bool NatsServer::HasClient(const std::string& client_name) const {
  if (pid_ <= 0) return false;
  HttpClient client("127.0.0.1", http_port_, std::chrono::milliseconds(2000));
  HttpResult r = client.Get("/connz?limit=1024");
  return r.status == 200 && r.body.find("\"name\": \"" + client_name + "\"") != std::string::npos;
}

// ---- NatsCluster ------------------------------------------------------------------------

NatsCluster::NatsCluster(int nodes) {
  std::vector<uint16_t> ports = FreePorts(3 * nodes);
  std::vector<uint16_t> routes(ports.begin() + 2 * nodes, ports.end());
  for (int i = 0; i < nodes; ++i) {
    NatsServer::ClusterSpec spec{routes[i], routes};
    nodes_.emplace_back(
        new NatsServer(dir_.path(), "n" + std::to_string(i), ports[2 * i], ports[2 * i + 1], spec));
  }
  for (auto& n : nodes_) {
    if (!n->Spawn()) return;
  }
  // A member is healthy once the meta group elected a leader, which needs a quorum.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (auto& n : nodes_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!n->WaitReady(std::max(left, std::chrono::milliseconds(1)))) return;
  }
  started_ = true;
}

NatsCluster::~NatsCluster() { Stop(); }

void NatsCluster::Stop() {
  for (auto& n : nodes_) n->Stop();
}

int NatsCluster::IndexOf(const std::string& server_name) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i]->name() == server_name) return static_cast<int>(i);
  }
  return -1;
}

int NatsCluster::NodeWithClient(const std::string& client_name) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i]->HasClient(client_name)) return static_cast<int>(i);
  }
  return -1;
}

std::string NatsCluster::Urls() const {
  std::string out;
  for (const auto& n : nodes_) out += (out.empty() ? "" : ",") + n->Url();
  return out;
}

// ---- JsReader ---------------------------------------------------------------------------

JsReader::JsReader(const std::string& urls) {
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  std::vector<std::string> list;
  std::stringstream ss(urls);
  for (std::string u; std::getline(ss, u, ',');) list.push_back(u);
  std::vector<const char*> servers;
  for (const auto& u : list) servers.push_back(u.c_str());
  if (s == NATS_OK) {
    s = natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size()));
  }
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 2000);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 100);
  if (s == NATS_OK) s = natsConnection_Connect(&nc_, opts);
  natsOptions_Destroy(opts);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  if (s == NATS_OK) s = natsConnection_JetStream(&js_, nc_, &jo);
  if (s != NATS_OK) {
    error_ = std::string("connect to ") + urls + ": " + natsStatus_GetText(s);
    js_ = nullptr;
  }
}

JsReader::~JsReader() {
  jsCtx_Destroy(js_);
  natsConnection_Destroy(nc_);
}

namespace {

// Calls `use` with the stream's info; returns false (and sets *error) when it cannot be read.
template <typename F>
bool WithInfo(jsCtx* js, const std::string& stream, std::string* error, F use) {
  if (js == nullptr) return false;
  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, js, stream.c_str(), nullptr, nullptr);
  if (s != NATS_OK) {
    *error = "stream info " + stream + ": " + natsStatus_GetText(s);
    return false;
  }
  use(*si);
  jsStreamInfo_Destroy(si);
  return true;
}

}  // namespace

int64_t JsReader::MessageCount(const std::string& stream) {
  int64_t n = -1;
  WithInfo(js_, stream, &error_,
           [&](const jsStreamInfo& si) { n = static_cast<int64_t>(si.State.Msgs); });
  return n;
}

std::string JsReader::StreamLeader(const std::string& stream) {
  std::string leader;
  WithInfo(js_, stream, &error_, [&](const jsStreamInfo& si) {
    if (si.Cluster != nullptr && si.Cluster->Leader != nullptr) leader = si.Cluster->Leader;
  });
  return leader;
}

int64_t JsReader::StreamReplicas(const std::string& stream) {
  int64_t r = -1;
  WithInfo(js_, stream, &error_, [&](const jsStreamInfo& si) {
    if (si.Config != nullptr) r = si.Config->Replicas;
  });
  return r;
}

std::vector<StoredMessage> JsReader::Messages(const std::string& stream) {
  std::vector<StoredMessage> out;
  uint64_t first = 0, last = 0;
  bool have = WithInfo(js_, stream, &error_, [&](const jsStreamInfo& si) {
    first = si.State.FirstSeq;
    last = si.State.LastSeq;
  });
  if (!have || last == 0) return out;
  out.reserve(last - first + 1);
  for (uint64_t seq = first; seq <= last; ++seq) {
    natsMsg* msg = nullptr;
    natsStatus s = js_GetMsg(&msg, js_, stream.c_str(), seq, nullptr, nullptr);
    if (s == NATS_NOT_FOUND) continue;  // deleted
    if (s != NATS_OK) {
      error_ = "get " + stream + " #" + std::to_string(seq) + ": " + natsStatus_GetText(s);
      break;
    }
    StoredMessage m;
    m.seq = seq;
    m.subject = natsMsg_GetSubject(msg);
    m.data.assign(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    const char* id = nullptr;
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) m.msg_id = id;
    natsMsg_Destroy(msg);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace cistern::testing
