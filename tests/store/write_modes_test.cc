// The same promises in every write mode: all-or-nothing requests, ids unique and never
// reused, callback after COMMIT, jobs in their own transaction.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
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
    StoreOptions o = CommitCountingOptions(dir_.File("events.db"));
    o.mode = GetParam();
    o.max_backlog = 0;
    auto s = Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? s.value() : nullptr;
  }
  std::string db() const { return dir_.File("events.db"); }
  TempDir dir_;
};

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
  if (GetParam() != WriteMode::kGroup) {
    EXPECT_EQ(st.commits, kThreads * kPerThread) << "one transaction per request";
  }
  if (GetParam() != WriteMode::kConcurrent) {
    EXPECT_EQ(st.commit_conflicts, 0);
  }
}

// Another process holding SQLite's write lock: group and serialized mode wait for it (busy
// timeout); concurrent mode meets it as a conflict, counts it and retries until it is free.
TEST_P(WriteModesTest, AnotherWriterHoldingTheLockDelaysButDoesNotFailAppends) {
  auto store = Open();
  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &blocker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::promise<AppendResult> done;
  std::thread appender([&] { done.set_value(AppendAndWait(*store, MakeBatch(2))); });
  auto result = done.get_future();
  EXPECT_EQ(result.wait_for(std::chrono::milliseconds(150)), std::future_status::timeout)
      << "the append cannot commit while another writer holds the lock";
  ASSERT_EQ(sqlite3_exec(blocker, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(blocker);
  EXPECT_TRUE(result.get().status.ok());
  appender.join();
  if (GetParam() == WriteMode::kConcurrent) {
    EXPECT_GT(store->Stats().commit_conflicts, 0) << "the lock was met and retried";
  } else {
    EXPECT_EQ(store->Stats().commit_conflicts, 0);
  }
}

// An op's own refusal (here: marking ids that were never committed) rolls back only the op;
// in group mode the request that shares its transaction is stored all the same.
TEST_P(WriteModesTest, AnOpsRefusalRollsBackOnlyItselfNotItsGroup) {
  auto store = Open();
  ASSERT_TRUE(AppendAndWait(*store, MakeBatch(4)).status.ok());
  UploadBatch beyond;
  beyond.node_id = "n";
  beyond.ids = {1, 2, 1000};
  for (int i = 0; i < 3; ++i) beyond.events.Add("dev", "t", "{}", true, 1);

  // Hold SQLite's write lock so that the writer's next group (a first request) waits in
  // BEGIN; the op and a second request queue meanwhile and form the group after it.
  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &blocker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::promise<AppendResult> first, second;
  std::promise<Status> op;
  std::vector<std::thread> threads;
  threads.emplace_back([&] { first.set_value(AppendAndWait(*store, MakeBatch(1, "first"))); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  threads.emplace_back([&] { op.set_value(store->MarkUploaded(beyond, 0)); });
  threads.emplace_back([&] { second.set_value(AppendAndWait(*store, MakeBatch(2, "second"))); });
  if (GetParam() == WriteMode::kGroup) {
    for (int i = 0; i < 100 && store->Stats().queue_depth < 2; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(store->Stats().queue_depth, 2) << "the op and the request wait together";
  } else {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const int64_t commits_before = store->Stats().commits;
  ASSERT_EQ(sqlite3_exec(blocker, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(blocker);
  Status refused = op.get_future().get();
  AppendResult a = first.get_future().get(), b = second.get_future().get();
  for (auto& t : threads) t.join();
  EXPECT_EQ(refused.code(), Status::Code::kInvalidArgument) << refused.message();
  EXPECT_TRUE(a.status.ok()) << a.status.message();
  EXPECT_TRUE(b.status.ok()) << b.status.message();
  if (GetParam() == WriteMode::kGroup) {
    EXPECT_EQ(store->Stats().commits - commits_before, 2) << "the op shared a transaction";
  }
  EXPECT_EQ(CountEvents(db()), 7);
  EXPECT_EQ(store->Stats().backlog, 7) << "nothing was marked";
  EXPECT_EQ(QueryInt(db(), "SELECT value FROM meta WHERE key = 'upload_cursor'"), 0);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM upload_runs"), 0);
  EXPECT_TRUE(AppendAndWait(*store, MakeBatch(1)).status.ok());
}

// The uploader's bookkeeping interleaves with appends from many threads: every event ends
// up either marked or still pending, the counts agree with the file.
TEST_P(WriteModesTest, MarkingAndAppendsInterleaveSafely) {
  auto store = Open();
  std::atomic<bool> stop{false};
  std::atomic<int64_t> marked{0};
  std::thread uploader([&] {
    auto reader = store->OpenBacklogReader();
    ASSERT_TRUE(reader.ok());
    UploadBatch batch;
    batch.node_id = "n";
    while (!stop) {
      ASSERT_TRUE((*reader)->Read(20, &batch).ok());
      Status s = store->MarkUploaded(batch, 0);
      ASSERT_TRUE(s.ok()) << s.message();
      marked += static_cast<int64_t>(batch.size());
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
  uploader.join();
  EXPECT_GT(marked.load(), 0);
  EXPECT_EQ(CountEvents(db()), 400);
  auto st = store->Stats();
  EXPECT_EQ(st.events_uploaded, marked.load());
  EXPECT_EQ(st.backlog, 400 - marked.load());
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM pending_events"), st.backlog);
  EXPECT_EQ(QueryInt(db(), "SELECT sum(pending) FROM devices"), st.backlog);
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
