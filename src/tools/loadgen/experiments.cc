#include "tools/loadgen/experiments.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/json_writer.h"
#include "store/store.h"

namespace cistern::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

// A directory for one experiment's databases; removed afterwards when we made it.
class Scratch {
 public:
  explicit Scratch(const std::string& dir) {
    if (!dir.empty()) {
      path_ = dir;
      std::filesystem::create_directories(path_);
      return;
    }
    std::string templ = (std::filesystem::temp_directory_path() / "cistern-exp-XXXXXX").string();
    if (mkdtemp(templ.data())) {
      path_ = templ;
      owned_ = true;
    }
  }
  ~Scratch() {
    std::error_code ec;
    if (owned_) std::filesystem::remove_all(path_, ec);
  }
  // A fresh database path (any previous file of that name removed).
  std::string Fresh(const std::string& name) const {
    std::string p = path_ + "/" + name + ".db";
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", ".lock"})
      std::filesystem::remove(p + suffix, ec);
    return p;
  }

 private:
  std::string path_;
  bool owned_ = false;
};

Result<std::shared_ptr<Store>> OpenFresh(const Scratch& scratch, const std::string& name,
                                         WriteMode mode, bool indexed) {
  StoreOptions o;
  o.path = scratch.Fresh(name);
  o.mode = mode;
  o.indexed = indexed;
  o.max_backlog = 0;
  // The table counts commits per mode: nothing is ever uploaded here, so the retention
  // pass would only add empty transactions to that count.
  o.maintenance_interval = std::chrono::hours(1);
  return Store::Open(o);
}

// Blocks until the store completed one request.
class Waiter {
 public:
  void Done(Status s) {
    std::lock_guard lock(mu_);
    status_ = std::move(s);
    done_ = true;
    cv_.notify_one();
  }
  Status Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_; });
    done_ = false;
    return status_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  Status status_;
};

EventBatch OneEvent(int worker, int64_t seq, int devices) {
  EventBatch b;
  std::string dev = fmt::format("sensor-{:04d}", (worker + seq) % std::max(1, devices));
  std::string payload = fmt::format(
      R"({{"temp_c":{:.1f},"humidity":{:.1f},"seq":{},"note":"a \"quoted\" note"}})",
      20.0 + static_cast<double>(seq % 50) / 10, 40.0 + static_cast<double>(seq % 30), seq);
  b.Add(dev, seq % 17 == 0 ? "error" : "telemetry", payload, true, 1748722000000 + seq);
  return b;
}

Status Append(Store& store, EventBatch batch, Waiter& w) {
  store.Append(std::move(batch), [&w](const AppendResult& r) { w.Done(r.status); });
  return w.Wait();
}

// Appends refused with Busy (SQLITE_BUSY/LOCKED past the store's own retries: concurrent
// writers on a loaded box) in this process; reported with each row's conflicts.
std::atomic<int64_t> g_busy{0};

// Runs `workers` threads calling body(worker, seq) until the deadline. Busy is contention, a
// result of the experiment, not its failure: counted in g_busy and retried (issue 16.3). Any
// other error ends the run and is returned.
Status RunWorkers(int workers, std::chrono::milliseconds duration,
                  const std::function<Status(int, int64_t, Waiter&)>& body) {
  std::mutex mu;
  Status first_error;
  std::atomic<bool> failed{false};
  const auto deadline = Clock::now() + duration;
  std::vector<std::thread> threads;
  for (int t = 0; t < workers; ++t) {
    threads.emplace_back([&, t] {
      Waiter w;
      for (int64_t seq = 0; Clock::now() < deadline && !failed; ++seq) {
        if (Status s = body(t, seq, w); s.code() == Status::Code::kBusy) {
          g_busy.fetch_add(1);
        } else if (!s.ok()) {
          std::lock_guard lock(mu);
          if (first_error.ok()) first_error = s;
          failed = true;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return first_error;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Percentile(std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

Result<std::vector<BenchRow>> RunBench(const ExperimentOptions& o) {
  Scratch scratch(o.dir);
  std::vector<BenchRow> rows;
  for (bool indexed : {false, true}) {
    for (WriteMode mode : o.modes) {
      auto store = OpenFresh(scratch, fmt::format("bench-{}-{}", WriteModeName(mode), indexed),
                             mode, indexed);
      if (!store.ok()) return store.status();
      auto start = Clock::now();
      Status s = RunWorkers(o.workers, o.duration, [&](int w, int64_t seq, Waiter& waiter) {
        return Append(**store, OneEvent(w, seq, o.devices), waiter);
      });
      double secs = Seconds(Clock::now() - start);
      if (!s.ok()) return s;
      StoreStats st = (*store)->Stats();
      BenchRow r;
      r.mode = WriteModeName(mode);
      r.indexed = indexed;
      r.events = st.events_written_session;
      r.events_per_s = static_cast<double>(r.events) / secs;
      r.commits = st.commits;
      r.conflicts = st.commit_conflicts + g_busy.exchange(0);
      rows.push_back(r);
      (*store)->Close();
    }
  }
  for (BenchRow& r : rows) {
    for (const BenchRow& base : rows) {
      if (base.mode == "serialized" && base.indexed == r.indexed && base.events_per_s > 0) {
        r.vs_serialized = r.events_per_s / base.events_per_s;
      }
    }
  }
  return rows;
}

Result<std::vector<ContentionRow>> RunContention(const ExperimentOptions& o) {
  Scratch scratch(o.dir);
  std::vector<ContentionRow> rows;
  for (WriteMode mode : o.modes) {
    auto store = OpenFresh(scratch, fmt::format("contention-{}", WriteModeName(mode)), mode, false);
    if (!store.ok()) return store.status();
    std::atomic<bool> stop{false};
    std::atomic<int64_t> checkpoints{0};
    Status checkpoint_error;
    // The uploader's own bookkeeping (Store::MarkUploaded) on the next slice of the backlog,
    // read as the uploader reads it, in a loop, as fast as it commits.
    auto reader = (*store)->OpenBacklogReader();
    if (!reader.ok()) return reader.status();
    std::thread checkpointer([&] {
      UploadBatch slice;
      slice.node_id = "experiment";
      while (!stop) {
        if (Status s = (*reader)->Read(200, &slice); !s.ok()) {
          checkpoint_error = s;
          return;
        }
        Status s = (*store)->MarkUploaded(slice, 0);
        if (!s.ok()) {
          checkpoint_error = s;
          return;
        }
        checkpoints++;
      }
    });
    std::mutex mu;
    std::vector<double> latencies;
    Status s = RunWorkers(o.workers, o.duration, [&](int w, int64_t seq, Waiter& waiter) {
      auto t0 = Clock::now();
      Status st = Append(**store, OneEvent(w, seq, o.devices), waiter);
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      std::lock_guard lock(mu);
      latencies.push_back(ms);
      return st;
    });
    stop = true;
    checkpointer.join();
    if (!s.ok()) return s;
    if (!checkpoint_error.ok()) return checkpoint_error;
    std::sort(latencies.begin(), latencies.end());
    ContentionRow r;
    r.mode = WriteModeName(mode);
    r.inserts = static_cast<int64_t>(latencies.size());
    r.p50_ms = Percentile(latencies, 0.50);
    r.p95_ms = Percentile(latencies, 0.95);
    r.p99_ms = Percentile(latencies, 0.99);
    r.max_ms = latencies.empty() ? 0 : latencies.back();
    r.checkpoint_txns = checkpoints.load();
    r.conflicts = (*store)->Stats().commit_conflicts + g_busy.exchange(0);
    rows.push_back(r);
    (*store)->Close();
  }
  return rows;
}

Result<std::vector<DisjointRow>> RunDisjoint(const ExperimentOptions& o) {
  Scratch scratch(o.dir);
  constexpr int kRowsPerWriter = 500;
  constexpr int kStatementsPerTxn = 20;
  std::vector<DisjointRow> rows;
  for (WriteMode mode : o.modes) {
    auto store = OpenFresh(scratch, fmt::format("disjoint-{}", WriteModeName(mode)), mode, false);
    if (!store.ok()) return store.status();
    // Each writer owns ids [first[w], first[w] + kRowsPerWriter).
    std::vector<int64_t> first(o.workers);
    Waiter setup;
    for (int w = 0; w < o.workers; ++w) {
      EventBatch b;
      for (int i = 0; i < kRowsPerWriter; ++i) b.Add("owner", "telemetry", "{}", true, 1);
      int64_t id = 0;
      (*store)->Append(std::move(b), [&](const AppendResult& r) {
        id = r.first_id;
        setup.Done(r.status);
      });
      if (Status s = setup.Wait(); !s.ok()) return s;
      first[w] = id;
    }
    int64_t commits_before = (*store)->Stats().commits;
    std::atomic<int64_t> updated{0};
    auto start = Clock::now();
    Status s = RunWorkers(o.workers, o.duration, [&](int w, int64_t seq, Waiter&) {
      std::vector<std::pair<int64_t, std::string>> updates;
      for (int k = 0; k < kStatementsPerTxn; ++k) {
        int64_t slot = (seq * kStatementsPerTxn + k) % kRowsPerWriter;
        updates.emplace_back(first[w] + slot, fmt::format(R"({{"v":{}}})", seq));
      }
      Status st = (*store)->UpdatePayloads(std::move(updates));
      if (st.ok()) updated += kStatementsPerTxn;
      return st;
    });
    double secs = Seconds(Clock::now() - start);
    if (!s.ok()) return s;
    StoreStats st = (*store)->Stats();
    DisjointRow r;
    r.mode = WriteModeName(mode);
    r.rows_updated = updated.load();
    r.rows_per_s = static_cast<double>(r.rows_updated) / secs;
    r.transactions = st.commits - commits_before;
    r.conflicts = st.commit_conflicts + g_busy.exchange(0);
    rows.push_back(r);
    (*store)->Close();
  }
  return rows;
}

std::string BenchTable(const std::vector<BenchRow>& rows) {
  std::string out =
      "| mode | indexed | events/s | vs serialized | events | commits | conflicts |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    out += fmt::format("| {} | {} | {:.0f} | {:.2f}x | {} | {} | {} |\n", r.mode,
                       r.indexed ? "yes" : "no", r.events_per_s, r.vs_serialized, r.events,
                       r.commits, r.conflicts);
  }
  return out;
}

std::string ContentionTable(const std::vector<ContentionRow>& rows) {
  std::string out =
      "| mode | p50 ms | p95 ms | p99 ms | max ms | inserts | checkpoint txns | conflicts |\n"
      "|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    out +=
        fmt::format("| {} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {} | {} | {} |\n", r.mode, r.p50_ms,
                    r.p95_ms, r.p99_ms, r.max_ms, r.inserts, r.checkpoint_txns, r.conflicts);
  }
  return out;
}

std::string DisjointTable(const std::vector<DisjointRow>& rows) {
  std::string out =
      "| mode | rows updated/s | rows updated | transactions | conflicts |\n"
      "|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    out += fmt::format("| {} | {:.0f} | {} | {} | {} |\n", r.mode, r.rows_per_s, r.rows_updated,
                       r.transactions, r.conflicts);
  }
  return out;
}

std::string ExperimentsJson(const std::vector<BenchRow>* bench,
                            const std::vector<ContentionRow>* contention,
                            const std::vector<DisjointRow>* disjoint) {
  JsonWriter w;
  w.BeginObject();
  if (bench) {
    w.Key("bench");
    w.BeginArray();
    for (const auto& r : *bench) {
      w.BeginObject();
      w.Key("mode");
      w.String(r.mode);
      w.Key("indexed");
      w.Bool(r.indexed);
      w.Key("events_per_s");
      w.Double(r.events_per_s);
      w.Key("vs_serialized");
      w.Double(r.vs_serialized);
      w.Key("events");
      w.Int(r.events);
      w.Key("commits");
      w.Int(r.commits);
      w.Key("conflicts");
      w.Int(r.conflicts);
      w.EndObject();
    }
    w.EndArray();
  }
  if (contention) {
    w.Key("contention");
    w.BeginArray();
    for (const auto& r : *contention) {
      w.BeginObject();
      w.Key("mode");
      w.String(r.mode);
      w.Key("p50_ms");
      w.Double(r.p50_ms);
      w.Key("p95_ms");
      w.Double(r.p95_ms);
      w.Key("p99_ms");
      w.Double(r.p99_ms);
      w.Key("max_ms");
      w.Double(r.max_ms);
      w.Key("inserts");
      w.Int(r.inserts);
      w.Key("checkpoint_txns");
      w.Int(r.checkpoint_txns);
      w.Key("conflicts");
      w.Int(r.conflicts);
      w.EndObject();
    }
    w.EndArray();
  }
  if (disjoint) {
    w.Key("disjoint");
    w.BeginArray();
    for (const auto& r : *disjoint) {
      w.BeginObject();
      w.Key("mode");
      w.String(r.mode);
      w.Key("rows_per_s");
      w.Double(r.rows_per_s);
      w.Key("rows_updated");
      w.Int(r.rows_updated);
      w.Key("transactions");
      w.Int(r.transactions);
      w.Key("conflicts");
      w.Int(r.conflicts);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return w.Take();
}

}  // namespace cistern::loadgen
