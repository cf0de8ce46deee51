// The same promises in every write mode: all-or-nothing requests, ids unique and never
// reused, callback after COMMIT, jobs in their own transaction.
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "store/store.h"
#include "support/sqlite_peek.h"
#include "support/store_helpers.h"
#include "support/temp_dir.h"

namespace cistern::testing {
namespace {

class WriteModesTest : public ::testing::TestWithParam<WriteMode> {
 protected:
  std::shared_ptr<Store> Open() {
    StoreOptions o;
    o.path = dir_.File("events.db");
    o.mode = GetParam();
    o.max_backlog = 0;
    auto s = Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? s.value() : nullptr;
  }
  std::string db() const { return dir_.File("events.db"); }
  TempDir dir_;
};

Status ExecAndWait(Store& store, Job job) {
  std::promise<Status> p;
  store.Exec(std::move(job), [&p](const Status& s) { p.set_value(s); });
  return p.get_future().get();
}

TEST_P(WriteModesTest, StatsNameTheMode) {
  auto store = Open();
  EXPECT_EQ(store->Stats().mode, WriteModeName(GetParam()));
}

TEST_P(WriteModesTest, ConcurrentAppendersAllLandWithUniqueIds) {
  auto store = Open();
  constexpr int kThreads = 8, kPerThread = 60;
  std::mutex mu;
  std::vector<int64_t> ids;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = AppendAndWait(*store, MakeBatch(3, "t" + std::to_string(t)));
        ASSERT_TRUE(r.status.ok()) << r.status.message();
        // The callback ran after COMMIT: another connection sees the rows now.
        std::lock_guard lock(mu);
        for (int k = 0; k < 3; ++k) ids.push_back(r.first_id + k);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), ids.size());
  std::set<int64_t> on_disk;
  for (const auto& row : QueryRows(db(), "SELECT id FROM events"))
    on_disk.insert(std::stoll(row[0]));
  EXPECT_EQ(on_disk, unique);
  auto st = store->Stats();
  EXPECT_EQ(st.backlog, 3 * kThreads * kPerThread);
  EXPECT_EQ(st.devices_seen, kThreads);
  EXPECT_GE(st.commit_conflicts, 0);
  if (GetParam() != WriteMode::kConcurrent) {
    EXPECT_EQ(st.commit_conflicts, 0);
  }
}

TEST_P(WriteModesTest, AFailingJobRollsBackOnlyItself) {
  auto store = Open();
  ASSERT_TRUE(AppendAndWait(*store, MakeBatch(4)).status.ok());
  Status bad = ExecAndWait(*store, [](sql::Db& db) {
    if (Status s = db.Exec("UPDATE events SET uploaded_at = 1"); !s.ok()) return s;
    return Status::Internal("job gave up after writing");
  });
  EXPECT_EQ(bad.code(), Status::Code::kInternal);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM events WHERE uploaded_at IS NULL"), 4);
  Status good = ExecAndWait(*store, [](sql::Db& db) {
    return db.Exec("UPDATE events SET uploaded_at = 1 WHERE id <= 2");
  });
  EXPECT_TRUE(good.ok()) << good.message();
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM events WHERE uploaded_at IS NULL"), 2);
  // Appends keep working after both.
  EXPECT_TRUE(AppendAndWait(*store, MakeBatch(1)).status.ok());
}

TEST_P(WriteModesTest, JobsAndAppendsInterleaveSafely) {
  auto store = Open();
  std::atomic<bool> stop{false};
  std::atomic<int> jobs{0};
  std::thread checkpointer([&] {
    while (!stop) {
      Status s = ExecAndWait(*store, [](sql::Db& db) {
        return db.Exec(
            "UPDATE events SET uploaded_at = 1 WHERE id IN (SELECT id FROM events "
            "WHERE uploaded_at IS NULL ORDER BY id LIMIT 20)");
      });
      ASSERT_TRUE(s.ok()) << s.message();
      jobs++;
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < 50; ++i) ASSERT_TRUE(AppendAndWait(*store, MakeBatch(2)).status.ok());
    });
  }
  for (auto& w : writers) w.join();
  stop = true;
  checkpointer.join();
  EXPECT_GT(jobs.load(), 0);
  EXPECT_EQ(CountEvents(db()), 400);
}

TEST_P(WriteModesTest, IdsContinueAfterReopen) {
  int64_t last = 0;
  {
    auto store = Open();
    auto r = AppendAndWait(*store, MakeBatch(5));
    last = r.first_id + 4;
  }
  auto store = Open();
  EXPECT_EQ(AppendAndWait(*store, MakeBatch(1)).first_id, last + 1);
}

INSTANTIATE_TEST_SUITE_P(AllModes, WriteModesTest,
                         ::testing::Values(WriteMode::kGroup, WriteMode::kSerialized,
                                           WriteMode::kConcurrent),
                         [](const auto& info) { return std::string(WriteModeName(info.param)); });

}  // namespace
}  // namespace cistern::testing
