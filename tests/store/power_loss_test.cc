// Simulated power loss (FaultVfs), hundreds of randomized rounds. In each, producers append
// while the real uploader ships to an in-memory sink and retention deletes shipped events at
// once (so the newest rows get deleted too); the power goes off after a random number of
// I/O operations; the files are put back as the disk would hold them (every write since the
// last completed fsync lost; in variants a random subset of them kept, or the last one kept
// torn); then the store reopens and must show:
//  - PRAGMA integrity_check ok;
//  - every acknowledged event in the file, unless it was shipped and recorded as shipped
//    (retention deletes those);
//  - ids never handed out twice: the next id is above every id acknowledged or shipped;
//  - the maintained counts equal the file (backlog = sum(devices.pending) = pending rows).
// The seed is printed on failure; CISTERN_POWER_SEED=<seed> replays that round alone,
// CISTERN_POWER_ROUNDS=<n> runs more.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "store/store.h"
#include "support/fault_vfs.h"
#include "support/sqlite_peek.h"
#include "support/store_helpers.h"
#include "support/temp_dir.h"
#include "uploader/uploader.h"

namespace cistern::testing {
namespace {

// Remembers every id it acknowledged.
class ShippedSink : public Sink {
 public:
  std::string name() const override { return "recorded"; }
  SendResult Send(const UploadBatch& batch) override {
    std::lock_guard lock(mu);
    ids.insert(batch.ids.begin(), batch.ids.end());
    return SendResult::Ok();
  }
  std::mutex mu;
  std::set<int64_t> ids;
};

struct RoundResult {
  std::set<int64_t> acked;
  std::set<int64_t> shipped;
};

// One round on a fresh file; returns what was acknowledged and shipped before the power went.
RoundResult PowerCutRound(const std::string& path, uint64_t seed, FaultVfs& vfs) {
  std::mt19937_64 rng(seed);
  StoreOptions o;
  o.path = path;
  o.max_backlog = 0;
  o.mode = std::array{WriteMode::kGroup, WriteMode::kGroup, WriteMode::kSerialized,
                      WriteMode::kConcurrent}[rng() % 4];
  o.retain_uploaded = std::chrono::milliseconds(0);
  o.maintenance_interval = std::chrono::milliseconds(2);
  RoundResult out;
  auto store = Store::Open(o);
  EXPECT_TRUE(store.ok()) << store.status().message();
  if (!store.ok()) return out;
  auto sink = std::make_unique<ShippedSink>();
  ShippedSink* shipped = sink.get();
  UploaderOptions uo;
  uo.interval = std::chrono::milliseconds(1);
  uo.batch = 1 + rng() % 40;
  uo.initial_backoff = std::chrono::milliseconds(1);
  uo.max_backoff = std::chrono::milliseconds(2);
  Uploader up(*store, std::move(sink), uo);
  EXPECT_TRUE(up.Start().ok());
  vfs.CutPowerAfter(1 + static_cast<int64_t>(rng() % 300));

  std::mutex mu;
  std::vector<std::thread> producers;
  for (int p = 0; p < 3; ++p) {
    producers.emplace_back([&, p, s = rng()] {
      std::mt19937_64 r(s);
      for (int i = 0; i < 60 && !vfs.power_off(); ++i) {
        EventBatch b;
        const int n = 1 + static_cast<int>(r() % 12);
        for (int k = 0; k < n; ++k) {
          b.Add("dev-" + std::to_string(r() % 5), "t",
                "{\"v\":\"" + std::string(r() % 1500, 'p') + "\"}", true, 1000 + i);
        }
        AppendResult res = AppendAndWait(**store, std::move(b));
        if (!res.status.ok()) continue;
        std::lock_guard lock(mu);
        for (size_t k = 0; k < res.count; ++k) out.acked.insert(res.first_id + k);
      }
    });
  }
  for (auto& t : producers) t.join();
  up.Stop(std::chrono::milliseconds(0));
  (*store)->Close();
  std::lock_guard lock(shipped->mu);
  out.shipped = shipped->ids;
  return out;
}

void CheckAfterPowerLoss(const std::string& path, const RoundResult& r) {
  ASSERT_EQ(QueryRows(path, "PRAGMA integrity_check")[0][0], "ok");
  std::set<int64_t> on_disk;
  for (const auto& row : QueryRows(path, "SELECT id FROM event_log")) {
    on_disk.insert(std::stoll(row[0]));
  }
  const int64_t cursor = QueryInt(path, "SELECT value FROM meta WHERE key = 'upload_cursor'");
  for (int64_t id : r.acked) {
    if (on_disk.count(id)) continue;
    ASSERT_LE(id, cursor) << "acknowledged id " << id << " lost (not shipped)";
    ASSERT_TRUE(r.shipped.count(id)) << "id " << id << " deleted but never shipped";
  }
  StoreOptions o;
  o.path = path;
  o.max_backlog = 0;
  auto store = Store::Open(o);
  ASSERT_TRUE(store.ok()) << store.status().message();
  const int64_t pending = QueryInt(path, "SELECT count(*) FROM pending_events");
  EXPECT_EQ((*store)->Stats().backlog, pending);
  EXPECT_EQ(QueryInt(path, "SELECT coalesce(sum(pending), 0) FROM devices"), pending);
  auto next = AppendAndWait(**store, MakeBatch(1, "after"));
  ASSERT_TRUE(next.status.ok()) << next.status.message();
  int64_t highest = 0;
  if (!r.acked.empty()) highest = std::max(highest, *r.acked.rbegin());
  if (!r.shipped.empty()) highest = std::max(highest, *r.shipped.rbegin());
  EXPECT_GT(next.first_id, highest) << "an id was handed out twice";
  (*store)->Close();
}

TEST(PowerLossTest, RandomPowerCutsLoseNoAcknowledgedEventAndReuseNoId) {
  const char* one = std::getenv("CISTERN_POWER_SEED");
  const char* rounds_env = std::getenv("CISTERN_POWER_ROUNDS");
  const int rounds = one ? 1 : (rounds_env ? std::atoi(rounds_env) : 200);
  const uint64_t base = one ? std::strtoull(one, nullptr, 10) : std::random_device{}();
  // tmpfs when there is one: the model, not the medium, decides what survives, and fsync
  // on tmpfs costs nothing.
  const char* shm = "/dev/shm";
  std::string parent = std::filesystem::is_directory(shm) ? shm : "";
  int64_t acked = 0, lost_to_retention = 0;
  for (int round = 0; round < rounds; ++round) {
    const uint64_t seed = base + static_cast<uint64_t>(round);
    SCOPED_TRACE("CISTERN_POWER_SEED=" + std::to_string(seed));
    if (!parent.empty()) setenv("TMPDIR", parent.c_str(), 1);
    TempDir dir;
    const std::string path = dir.File("events.db");
    FaultVfs vfs;
    RoundResult r = PowerCutRound(path, seed, vfs);
    std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
    auto loss = static_cast<FaultVfs::Loss>(seed % 3);
    vfs.RevertUnsynced(loss, rng);
    CheckAfterPowerLoss(path, r);
    if (::testing::Test::HasFatalFailure() || ::testing::Test::HasNonfatalFailure()) {
      ADD_FAILURE() << "replay with CISTERN_POWER_SEED=" << seed;
      return;
    }
    acked += static_cast<int64_t>(r.acked.size());
    lost_to_retention += static_cast<int64_t>(r.shipped.size());
  }
  std::printf("power loss: %d rounds, %lld events acknowledged, %lld shipped\n", rounds,
              static_cast<long long>(acked), static_cast<long long>(lost_to_retention));
  EXPECT_GT(acked, rounds) << "the rounds acknowledged almost nothing: they tested nothing";
}

}  // namespace
}  // namespace cistern::testing
