// The SIGHUP reload tests' shared parts (docs/configuration.md "Reload"): the real binary
// started with a config file the test rewrites, a loader that posts throughout and collects
// the acknowledged ids, and Reload(), which sends SIGHUP by PID and waits until /stats counts
// it. Test-only; each object is used by one test thread (the Loader has its own).
#pragma once

#include <signal.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/server_fixture.h"

namespace cistern::testing {

inline std::string Events(int n) {
  std::string body = "[";
  for (int i = 0; i < n; ++i) {
    if (i) body += ',';
    body += R"({"device_id":"d","kind":"k","payload":{"i":)" + std::to_string(i) + "}}";
  }
  return body + "]";
}

inline size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Posts batches with one token until stopped; every answer must be 200, or 503 with
// Retry-After (the buffer bound); collects the acknowledged ids.
class Loader {
 public:
  Loader(uint16_t port, std::string token) : token_(std::move(token)) {
    thread_ = std::thread([this, port] {
      HttpClient client("127.0.0.1", port);
      while (!stop_) {
        auto r = client.Post("/events", Events(5), {{"Authorization", "Bearer " + token_}});
        requests_++;
        if (r.status == 200) {
          for (int64_t id : ParseIds(r.body)) ids_.push_back(id);
        } else if (r.status == 503 && !r.Header("retry-after").empty()) {
          refused_++;
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        } else {
          failures_.push_back(std::to_string(r.status) + " " + r.error + " " + r.body);
        }
      }
    });
  }
  ~Loader() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int64_t requests() const { return requests_; }
  int64_t refused() const { return refused_; }
  const std::vector<int64_t>& ids() const { return ids_; }
  const std::vector<std::string>& failures() const { return failures_; }

 private:
  std::string token_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> requests_{0}, refused_{0};
  std::vector<int64_t> ids_;           // loader thread until Stop
  std::vector<std::string> failures_;  // loader thread until Stop
  std::thread thread_;
};

class ReloadTest : public ServerTest {
 protected:
  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_.File(name);
    std::ofstream(path, std::ios::trunc) << content;
    return path;
  }
  std::string StatsBody() {
    auto r = client_->Get("/stats");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }
  // SIGHUP, then waits until /stats counts one more reload (good or failed).
  void Reload() {
    std::string before = StatsBody();
    const int64_t done =
        JsonInt(before, "/config/reloads") + JsonInt(before, "/config/reload_failures");
    server_->Signal(SIGHUP);
    for (int i = 0; i < 500; ++i) {
      std::string s = StatsBody();
      if (JsonInt(s, "/config/reloads") + JsonInt(s, "/config/reload_failures") > done) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "the reload was not counted in /stats\n" << server_->Log();
  }
  // Starts cistern with `--config cfg` alone: the sink comes from the file (a --sink flag
  // would beat the file at every reload too).
  void StartWithFile(const std::string& cfg) {
    server_ = std::make_unique<CisternProcess>(dir_.path(), db(),
                                               std::vector<std::string>{"--config", cfg});
    ASSERT_TRUE(server_->started()) << server_->Log();
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->port());
  }
  // Polls `pred` every 20 ms for up to `timeout`.
  template <class P>
  static bool WaitFor(P pred, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }
  int Post(const std::string& body, const std::string& token) {
    return client_->Post("/events", body, {{"Authorization", "Bearer " + token}}).status;
  }
};

}  // namespace cistern::testing
