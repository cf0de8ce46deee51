// upload-bench: the uploader's two performance promises, measured (issue: uploader & sinks).
//  1. An upload cycle costs O(batch), not O(database): read + checkpoint time per cycle on a
//     10k-event and a 1M-event database whose backlog sits behind a long uploaded prefix.
//  2. Drain rate: how fast the real Uploader empties a backlog into a local webhook receiver
//     and a local JetStream (real nats-server), with the default and a larger batch.
// Prints markdown tables. Starts its own receiver and nats-server on loopback.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "sinks/nats/nats_sink.h"
#include "sinks/webhook/webhook_sink.h"
#include "store/store.h"
#include "support/http_receiver.h"
#include "support/nats_server.h"
#include "support/temp_dir.h"
#include "uploader/uploader.h"

using namespace cistern;
using Clock = std::chrono::steady_clock;

namespace {

std::shared_ptr<Store> Fill(const std::string& path, int64_t events, int64_t leave_pending) {
  StoreOptions o;
  o.path = path;
  o.max_backlog = 0;
  auto store = Store::Open(o).value();
  const int64_t chunk = 5000;
  for (int64_t done = 0; done < events; done += chunk) {
    EventBatch b;
    for (int64_t i = 0; i < std::min(chunk, events - done); ++i) {
      b.Add("sensor-" + std::to_string(i % 50), i % 17 ? "telemetry" : "error",
            R"({"temp_c":21.4,"humidity":48.2,"seq":)" + std::to_string(done + i) +
                R"(,"note":"a \"quoted\" note"})",
            true, 1748722000000 + done + i);
    }
    std::promise<void> p;
    store->Append(std::move(b), [&](const AppendResult&) { p.set_value(); });
    p.get_future().wait();
  }
  // Everything but the newest `leave_pending` events already uploaded (through the store's
  // own bookkeeping): the backlog sits behind a long uploaded prefix.
  auto reader = store->OpenBacklogReader().value();
  UploadBatch b;
  for (int64_t marked = 0; marked < events - leave_pending;) {
    reader->Read(static_cast<size_t>(std::min(chunk, events - leave_pending - marked)), &b);
    if (b.empty() || !store->MarkUploaded(b, 0).ok()) break;
    marked += static_cast<int64_t>(b.size());
  }
  return store;
}

struct CycleCost {
  double read_us = 0, checkpoint_us = 0;
};

CycleCost MeasureCycles(Store& store, size_t batch, int cycles) {
  auto reader = store.OpenBacklogReader().value();
  UploadBatch b;
  b.node_id = "bench";
  std::vector<double> reads, checkpoints;
  for (int i = 0; i < cycles; ++i) {
    auto t0 = Clock::now();
    reader->Read(batch, &b);
    auto t1 = Clock::now();
    store.MarkUploaded(b, 0);
    auto t2 = Clock::now();
    reads.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    checkpoints.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  return {median(reads), median(checkpoints)};
}

double Drain(std::shared_ptr<Store> store, std::unique_ptr<Sink> sink, size_t batch) {
  UploaderOptions o;
  o.batch = batch;
  o.interval = std::chrono::milliseconds(10);
  Uploader up(store, std::move(sink), o);
  int64_t backlog = store->Stats().backlog;
  auto t0 = Clock::now();
  up.Start();
  while (store->Stats().backlog > 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  up.Stop(std::chrono::milliseconds(0));
  return static_cast<double>(backlog) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const int64_t large = argc > 1 ? std::stoll(argv[1]) : 1'000'000;
  const int64_t drain_events = argc > 2 ? std::stoll(argv[2]) : 200'000;
  testing::TempDir dir;

  std::printf("## Upload cycle cost (median of 20 cycles, batch 500)\n\n");
  std::printf(
      "| database | backlog | read | checkpoint | read+checkpoint |\n|---|---|---|---|---|\n");
  double small_total = 0;
  for (int64_t events : {int64_t{10'000}, large}) {
    auto store = Fill(dir.File("cycle-" + std::to_string(events) + ".db"), events, 10'000);
    CycleCost c = MeasureCycles(*store, 500, 20);
    double total = c.read_us + c.checkpoint_us;
    if (small_total == 0) small_total = total;
    std::printf("| %lld events | 10000 | %.0f us | %.0f us | %.0f us (%.2fx the 10k figure) |\n",
                static_cast<long long>(events), c.read_us, c.checkpoint_us, total,
                total / small_total);
    store->Close();
  }

  std::printf("\n## Drain rate (%lld pending events, real Uploader)\n\n",
              static_cast<long long>(drain_events));
  std::printf("| sink | batch | events/s |\n|---|---|---|\n");
  testing::HttpReceiverOptions ro;
  ro.keep_bodies = false;
  testing::HttpReceiver receiver(ro);
  if (!receiver.Start().ok()) return 1;
  testing::NatsServer nats;
  for (size_t batch : {size_t{500}, size_t{5000}}) {
    auto store = Fill(dir.File("drain-webhook-" + std::to_string(batch) + ".db"), drain_events,
                      drain_events);
    WebhookOptions wo;
    wo.url = receiver.Url("/ingest");
    double eps = Drain(store, MakeWebhookSink(wo).value(), batch);
    std::printf("| webhook (local receiver) | %zu | %.0f |\n", batch, eps);
    store->Close();
  }
  if (!nats.started()) {
    std::printf("| nats | - | nats-server did not start |\n");
    return 1;
  }
  for (size_t batch : {size_t{500}, size_t{5000}}) {
    auto store =
        Fill(dir.File("drain-nats-" + std::to_string(batch) + ".db"), drain_events, drain_events);
    NatsOptions no;
    no.url = nats.Url();
    no.stream = "BENCH" + std::to_string(batch);
    no.subject = "bench" + std::to_string(batch) + ".<device_id>";
    double eps = Drain(store, MakeNatsSink(no).value(), batch);
    std::printf("| nats JetStream (local, R1, file storage) | %zu | %.0f |\n", batch, eps);
    store->Close();
  }
  return 0;
}
