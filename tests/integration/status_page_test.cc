// The status page (GET /) in headless Chromium against the real collector: the figures of
// /stats appear under their element ids, a screenshot is produced, the token prompt replaces
// the figures when /stats needs an admin token, and the page loads nothing from elsewhere.
//
// Chromium runs with --virtual-time-budget: virtual time only advances while no request is
// in flight, so the page's one-second polls all complete and the run takes ~2 s of real time.
// It is a child process killed by PID when it overruns, and a Chromium that cannot start at
// all fails the test with its log (no skip).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

#include "support/mqtt_raw_client.h"
#include "support/server_fixture.h"
#include "support/spawn.h"

namespace cistern::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kChromium = "/usr/bin/chromium";

struct BrowserRun {
  int exit_code = -1;  // -1 when it was killed for overrunning
  std::string out;     // stdout: the DOM with --dump-dom
  std::string log;     // stderr
  std::string Describe() const {
    return "chromium exit code " + std::to_string(exit_code) + ", log:\n" + log;
  }
};

// Runs headless Chromium on `url` with a fresh profile under `dir`, plus `extra` flags.
BrowserRun RunChromium(const std::string& dir, const std::string& url,
                       const std::vector<std::string>& extra) {
  static std::atomic<int> counter{0};
  const std::string run = dir + "/chromium-" + std::to_string(counter++);
  std::filesystem::create_directories(run + "/profile");
  // RunProgram collects stdout and stderr together; the shell (replaced by Chromium through
  // exec, so the PID RunProgram kills is Chromium's) puts stderr apart: the DOM comes out clean.
  std::vector<std::string> argv = {"/bin/sh",
                                   "-c",
                                   "exec \"$@\" 2>\"$0\"",
                                   run + "/stderr",
                                   kChromium,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-quic",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--user-data-dir=" + run + "/profile",
                                   "--virtual-time-budget=5000"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(url);
  RunResult r = RunProgram(argv, 90s);  // killed by PID when it overruns
  BrowserRun result;
  result.exit_code = r.exit_code;
  result.out = r.output;
  result.log = ReadFile(run + "/stderr");
  return result;
}

// The start tag of the element with id `id` in a serialized DOM ("" when absent).
std::string StartTag(const std::string& dom, const std::string& id) {
  auto at = dom.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  auto open = dom.rfind('<', at);
  return dom.substr(open, dom.find('>', at) - open + 1);
}

// The text directly inside that element, up to its first child tag, entities undone.
std::string TextOf(const std::string& dom, const std::string& id) {
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&nbsp;", ' '}};
  auto at = dom.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "<no element with id " + id + ">";
  auto begin = dom.find('>', at) + 1;
  std::string_view raw(dom.data() + begin, dom.find('<', begin) - begin);
  std::string text;
  while (!raw.empty()) {
    auto entity = std::find_if(std::begin(kEntities), std::end(kEntities),
                               [&](const auto& e) { return raw.starts_with(e.first); });
    if (entity == std::end(kEntities)) {
      text += raw.front();
      raw.remove_prefix(1);
    } else {
      text += entity->second;
      raw.remove_prefix(entity->first.size());
    }
  }
  return text;
}

bool Hidden(const std::string& dom, const std::string& id) {
  return StartTag(dom, id).find(" hidden") != std::string::npos;
}

class StatusPageTest : public ServerTest {
 protected:
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/"; }

  // 12 events from 2 devices in 3 requests.
  void PostTwelveEvents(HttpClient& client) {
    for (auto [device, n] : {std::pair{"dev-a", 4}, {"dev-b", 5}, {"dev-a", 3}}) {
      std::string body = "[";
      for (int i = 0; i < n; ++i) {
        body += std::string(i ? "," : "") + R"({"device_id":")" + device +
                R"(","kind":"reading","payload":{"i":)" + std::to_string(i) + "}}";
      }
      body += "]";
      auto r = client.Post("/events", body);
      ASSERT_EQ(r.status, 200) << r.body;
    }
  }

  // Polls /stats until `done(body)` holds (20 s at most); returns the last /stats body.
  template <typename Pred>
  std::string WaitForStats(Pred done) {
    std::string body;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      body = client_->Get("/stats").body;
      if (done(body)) return body;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "gave up waiting; /stats: " << body;
    return body;
  }
};

TEST_F(StatusPageTest, ShowsTheCountersAndTheUploadersHealthAndLastError) {
  Start(
      {"--sink", "log", "--flaky-every", "2", "--upload-batch", "5", "--upload-interval", "50ms"});
  PostTwelveEvents(*client_);
  // Wait until the uploader shipped everything and failed on the way (every 2nd cycle), so
  // that the page and this test see the same, settled figures.
  const std::string stats = WaitForStats([](const std::string& s) {
    return JsonInt(s, "/store/backlog") == 0 && JsonInt(s, "/uploader/failures") >= 1;
  });
  const std::string last_error = JsonString(stats, "/uploader/last_error");
  EXPECT_NE(last_error.find("--flaky-every 2"), std::string::npos) << last_error;

  BrowserRun run = RunChromium(dir_.path(), Url(), {"--dump-dom"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  const std::string& dom = run.out;
  ASSERT_NE(dom.find("</html>"), std::string::npos) << dom << run.Describe();
  EXPECT_FALSE(Hidden(dom, "main")) << dom;
  EXPECT_TRUE(Hidden(dom, "login")) << dom;
  EXPECT_TRUE(Hidden(dom, "banner")) << TextOf(dom, "banner");

  EXPECT_EQ(TextOf(dom, "events-written"), "12");
  EXPECT_EQ(TextOf(dom, "backlog"), "0");
  EXPECT_EQ(TextOf(dom, "events-uploaded"), "12");
  EXPECT_EQ(TextOf(dom, "events-dropped"), "0");
  EXPECT_EQ(TextOf(dom, "devices-seen"), "2");
  EXPECT_EQ(TextOf(dom, "node-id"), JsonString(stats, "/store/node_id"));
  EXPECT_NE(TextOf(dom, "db-size").find("KiB"), std::string::npos) << TextOf(dom, "db-size");
  EXPECT_NE(TextOf(dom, "commit-p99").find(" ms"), std::string::npos);
  // Several polls happened: a rate needs two answers.
  EXPECT_NE(TextOf(dom, "ingest-rate").find("ev/s"), std::string::npos);

  EXPECT_EQ(TextOf(dom, "sink"), "log");
  EXPECT_EQ(TextOf(dom, "uploader-state"), "healthy");
  EXPECT_NE(StartTag(dom, "uploader-state").find("healthy"), std::string::npos);
  EXPECT_EQ(TextOf(dom, "runs"), std::to_string(JsonInt(stats, "/uploader/runs")));
  EXPECT_EQ(TextOf(dom, "failures"), std::to_string(JsonInt(stats, "/uploader/failures")));
  EXPECT_EQ(TextOf(dom, "last-error"), last_error);
  EXPECT_NE(TextOf(dom, "last-success"), "never");
  EXPECT_NE(TextOf(dom, "last-failure"), "never");
  // The charts were drawn (a line needs two polls).
  EXPECT_NE(dom.find("<polyline"), std::string::npos);
}

TEST_F(StatusPageTest, AFailingUploaderIsShownFailing) {
  Start({"--sink", "log", "--flaky-every", "1", "--upload-interval", "50ms", "--drain-timeout",
         "0s"});
  PostTwelveEvents(*client_);
  WaitForStats([](const std::string& s) { return JsonInt(s, "/uploader/failures") >= 1; });
  BrowserRun run = RunChromium(dir_.path(), Url(), {"--dump-dom"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(TextOf(run.out, "events-written"), "12");
  EXPECT_EQ(TextOf(run.out, "uploader-state"), "failing");
  EXPECT_NE(StartTag(run.out, "uploader-state").find("failing"), std::string::npos);
  EXPECT_NE(TextOf(run.out, "last-error").find("on purpose (--flaky-every 1)"), std::string::npos)
      << TextOf(run.out, "last-error");
  EXPECT_EQ(TextOf(run.out, "last-success"), "never");
}

TEST_F(StatusPageTest, WithoutAnUploaderSaysNotConfigured) {
  Start();
  PostTwelveEvents(*client_);
  BrowserRun run = RunChromium(dir_.path(), Url(), {"--dump-dom"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(TextOf(run.out, "backlog"), "12");
  EXPECT_EQ(TextOf(run.out, "uploader-state"), "not configured");
  EXPECT_EQ(TextOf(run.out, "last-error"), "none");
  EXPECT_TRUE(Hidden(run.out, "mqtt")) << "no MQTT listener, no MQTT figures";
}

// Issue 16: the page showed nothing of the MQTT listener.
TEST_F(StatusPageTest, ShowsTheMqttListenersFigures) {
  const uint16_t mqtt_port = FreePort();
  Start({"--mqtt-listen", "127.0.0.1:" + std::to_string(mqtt_port)});
  for (int i = 0; i < 3; ++i) {
    RunResult pub =
        RunProgram({"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(mqtt_port),
                    "-q", "1", "-t", "devices/pump-7/temp", "-m", std::to_string(20 + i)},
                   10s);
    ASSERT_EQ(pub.exit_code, 0) << pub.output;
  }
  const std::string stats =
      WaitForStats([](const std::string& s) { return JsonInt(s, "/mqtt/acks") == 3; });
  BrowserRun run = RunChromium(dir_.path(), Url(), {"--dump-dom"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_FALSE(Hidden(run.out, "mqtt")) << run.out;
  EXPECT_EQ(TextOf(run.out, "mqtt-connects"), "3");
  EXPECT_EQ(TextOf(run.out, "mqtt-messages"), "3");
  EXPECT_EQ(TextOf(run.out, "mqtt-events"), "3");
  EXPECT_EQ(TextOf(run.out, "mqtt-acks"), "3");
  EXPECT_EQ(TextOf(run.out, "mqtt-rejected"), "0");
  EXPECT_EQ(TextOf(run.out, "mqtt-connections"),
            std::to_string(JsonInt(stats, "/mqtt/connections")));
  EXPECT_EQ(TextOf(run.out, "events-written"), "3");
}

TEST_F(StatusPageTest, ProducesAScreenshot) {
  Start({"--sink", "log", "--flaky-every", "3", "--upload-batch", "20", "--upload-interval", "50ms",
         "--drain-timeout", "0s"});
  // Keep events coming while the page polls, so that the charts have something to draw.
  std::atomic<bool> stop{false};
  std::thread feeder([&] {
    HttpClient client("127.0.0.1", server_->port());
    while (!stop) {
      PostTwelveEvents(client);
      std::this_thread::sleep_for(20ms);
    }
  });
  const std::string png = dir_.File("status.png");
  // A 10 s chart window: the whole run spans a few seconds of virtual time.
  BrowserRun run = RunChromium(dir_.path(), Url() + "?window=10",
                               {"--screenshot=" + png, "--window-size=1280,900"});
  stop = true;
  feeder.join();
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  const std::string image = ReadFile(png);
  ASSERT_GE(image.size(), 8u) << "no screenshot; " << run.Describe();
  EXPECT_EQ(image.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // A blank 1280x900 page compresses to a few KB; text, tiles and charts do not.
  EXPECT_GT(image.size(), 10'000u);
  // STATUS_PAGE_SCREENSHOT=/some/file.png keeps a copy to look at.
  if (const char* keep = std::getenv("STATUS_PAGE_SCREENSHOT"); keep && *keep) {
    std::filesystem::copy_file(png, keep, std::filesystem::copy_options::overwrite_existing);
  }
}

TEST_F(StatusPageTest, AsksForTheAdminTokenInsteadOfShowingNumbers) {
  const std::string token_file = dir_.File("admin-tokens");
  std::ofstream(token_file) << "admin-secret\n";
  Start({"--admin-token-file", token_file});
  PostTwelveEvents(*client_);
  BrowserRun run = RunChromium(dir_.path(), Url(), {"--dump-dom"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_FALSE(Hidden(run.out, "login")) << run.out;
  EXPECT_TRUE(Hidden(run.out, "main")) << run.out;
  EXPECT_NE(StartTag(run.out, "token").find("type=\"password\""), std::string::npos);
  EXPECT_EQ(TextOf(run.out, "events-written"), "–");
  // The page stops polling at the first 401 (until a token is entered), so 5 s of virtual
  // time cost the collector one rejected request, not five.
  auto s = client_->Request("GET", "/stats", "", {{"Authorization", "Bearer admin-secret"}});
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(JsonInt(s.body, "/http/responses/401"), 1);
}

TEST_F(StatusPageTest, IsOneSelfContainedHtmlDocument) {
  Start();
  auto r = client_->Get("/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type").rfind("text/html", 0), 0u) << r.Header("content-type");
  EXPECT_NE(r.Header("content-security-policy").find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(r.body.rfind("<!doctype html>", 0), 0u);
  // No URL at all (no CDN, font or namespace string): everything is inline.
  EXPECT_EQ(r.body.find("http://"), std::string::npos);
  EXPECT_EQ(r.body.find("https://"), std::string::npos);
  EXPECT_EQ(r.body.find("//cdn"), std::string::npos);
  EXPECT_EQ(r.body.find(" src="), std::string::npos);
  EXPECT_EQ(r.body.find("<link"), std::string::npos);
  EXPECT_EQ(client_->Get("/index.html").body, r.body);
}

}  // namespace
}  // namespace cistern::testing
