#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "store/sqlite.h"
#include "support/sqlite_peek.h"
#include "support/store_helpers.h"
#include "support/temp_dir.h"

namespace cistern::testing {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  std::shared_ptr<Store> Open(int64_t max_backlog = 0) {
    StoreOptions o = CommitCountingOptions(dir_.File("events.db"));
    o.max_backlog = max_backlog;
    auto s = Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? s.value() : nullptr;
  }
  std::string db() const { return dir_.File("events.db"); }
  TempDir dir_;
};

TEST_F(StoreTest, AppendCommitsBeforeCompletingAndReturnsConsecutiveIds) {
  auto store = Open();
  auto r = AppendAndWait(*store, MakeBatch(3));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.first_id, 1);
  EXPECT_EQ(r.count, 3u);
  // Visible to another connection the moment the callback ran: it was committed.
  EXPECT_EQ(CountEvents(db()), 3);
  r = AppendAndWait(*store, MakeBatch(2));
  EXPECT_EQ(r.first_id, 4);
  auto st = store->Stats();
  EXPECT_EQ(st.events_written, 5);
  EXPECT_EQ(st.backlog, 5);
  EXPECT_EQ(st.devices_seen, 1);
  EXPECT_EQ(st.commits, 2);
}

TEST_F(StoreTest, RequestsQueuedDuringACommitShareTheNextTransaction) {
  auto store = Open();
  // Hold SQLite's write lock from another connection so the writer's first group waits in
  // BEGIN; everything submitted meanwhile must form the next group.
  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &blocker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  constexpr int kRequests = 100;
  std::vector<std::promise<AppendResult>> done(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    store->Append(MakeBatch(1, "d" + std::to_string(i)),
                  [&done, i](const AppendResult& r) { done[i].set_value(r); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(CountEvents(db()), 0) << "nothing may be visible while the lock is held";
  ASSERT_EQ(sqlite3_exec(blocker, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(blocker);

  std::set<int64_t> ids;
  for (auto& d : done) {
    auto r = d.get_future().get();
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    ids.insert(r.first_id);
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kRequests));
  EXPECT_EQ(CountEvents(db()), kRequests);
  // The first group is whatever was queued when the writer woke (it then waited in BEGIN);
  // everything queued during that wait shared the next commit: two commits at most, where
  // a transaction per request would have made 100.
  EXPECT_LE(store->Stats().commits, 2);
}

TEST_F(StoreTest, AdmissionNeverLetsTheBacklogPassTheLimit) {
  auto store = Open(/*max_backlog=*/10);
  EXPECT_TRUE(AppendAndWait(*store, MakeBatch(6)).status.ok());
  auto r = AppendAndWait(*store, MakeBatch(5));
  EXPECT_EQ(r.status.code(), Status::Code::kBufferFull);
  EXPECT_TRUE(AppendAndWait(*store, MakeBatch(4)).status.ok());
  EXPECT_EQ(AppendAndWait(*store, MakeBatch(1)).status.code(), Status::Code::kBufferFull);
  EXPECT_EQ(AppendAndWait(*store, MakeBatch(11)).status.code(), Status::Code::kTooLarge);
  EXPECT_EQ(store->Stats().backlog, 10);
  EXPECT_EQ(CountEvents(db()), 10);
}

TEST_F(StoreTest, ConcurrentAppendersGetDistinctIdsAndEverythingIsStored) {
  auto store = Open();
  constexpr int kThreads = 8, kPerThread = 200;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<int64_t> firsts;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = AppendAndWait(*store, MakeBatch(2, "t" + std::to_string(t)));
        ASSERT_TRUE(r.status.ok());
        std::lock_guard lock(mu);
        firsts.push_back(r.first_id);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> ids;
  for (int64_t f : firsts) ids.insert({f, f + 1});
  EXPECT_EQ(ids.size(), 2u * kThreads * kPerThread);
  EXPECT_EQ(CountEvents(db()), 2 * kThreads * kPerThread);
  EXPECT_EQ(store->Stats().devices_seen, kThreads);
}

TEST_F(StoreTest, ReopenRestoresCountersAndIdsNeverGoBack) {
  {
    auto store = Open();
    AppendAndWait(*store, MakeBatch(5, "a"));
    AppendAndWait(*store, MakeBatch(2, "b"));
  }
  // Delete the newest rows while the collector is stopped (an operator's cleanup): the
  // maintained pending counts no longer match, start-up notices and recounts.
  ASSERT_TRUE(ExecSql(db(), "DELETE FROM event_log WHERE id > 3"));
  auto store = Open();
  auto st = store->Stats();
  EXPECT_EQ(st.events_written, 7);
  EXPECT_EQ(st.backlog, 3);
  EXPECT_EQ(st.devices_seen, 2);  // devices ever seen stay
  EXPECT_EQ(QueryInt(db(), "SELECT pending FROM devices WHERE device_key = 'b'"), 0);
  EXPECT_EQ(QueryInt(db(), "SELECT pending FROM devices WHERE device_key = 'a'"), 3);
  auto r = AppendAndWait(*store, MakeBatch(1));
  EXPECT_EQ(r.first_id, 8) << "ids must never be reused: sinks de-duplicate on them";
}

// The figures move in the transaction that moves the events: when MarkUploaded returns, the
// backlog already excludes what was shipped, so an append right after it at the
// --max-backlog bound (drop-oldest) evicts exactly what it needs and no more.
TEST_F(StoreTest, MarkUploadedUpdatesTheBacklogBeforeReturning) {
  StoreOptions o;
  o.path = db();
  o.max_backlog = 100;
  o.on_full = OnFull::kDropOldest;
  auto store = Store::Open(o).value();
  ASSERT_TRUE(AppendAndWait(*store, MakeBatch(100)).status.ok());
  auto reader = store->OpenBacklogReader();
  ASSERT_TRUE(reader.ok());
  UploadBatch shipped;
  ASSERT_TRUE((*reader)->Read(30, &shipped).ok());
  ASSERT_TRUE(store->MarkUploaded(shipped, 0).ok());
  EXPECT_EQ(store->Stats().backlog, 70);
  ASSERT_TRUE(AppendAndWait(*store, MakeBatch(30)).status.ok());
  EXPECT_EQ(store->Stats().events_dropped, 0) << "room made by the upload, not by eviction";
  ASSERT_TRUE(AppendAndWait(*store, MakeBatch(5)).status.ok());
  auto st = store->Stats();
  EXPECT_EQ(st.events_dropped, 5);
  EXPECT_EQ(st.backlog, 100);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM pending_events"), 100);
  EXPECT_EQ(QueryInt(db(), "SELECT min(id) FROM pending_events"), 36);
}

TEST_F(StoreTest, CloseCompletesEverythingQueuedThenRefuses) {
  auto store = Open();
  constexpr int kRequests = 300;
  std::vector<std::promise<AppendResult>> done(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    store->Append(MakeBatch(1), [&done, i](const AppendResult& r) { done[i].set_value(r); });
  }
  store->Close();
  int ok = 0;
  for (auto& d : done) ok += d.get_future().get().status.ok();
  EXPECT_EQ(ok, kRequests);
  EXPECT_EQ(CountEvents(db()), kRequests);
  auto r = AppendAndWait(*store, MakeBatch(1));
  EXPECT_EQ(r.status.code(), Status::Code::kUnavailable);
  EXPECT_EQ(CountEvents(db()), kRequests);
}

TEST_F(StoreTest, CleanCloseLeavesNoWalBehind) {
  {
    auto store = Open();
    AppendAndWait(*store, MakeBatch(50));
  }
  struct stat st {};
  bool wal_exists = ::stat((db() + "-wal").c_str(), &st) == 0;
  EXPECT_TRUE(!wal_exists || st.st_size == 0) << "WAL size " << st.st_size;
  EXPECT_EQ(CountEvents(db()), 50);
}

// Issue 17: a reader holding a transaction pins the WAL; when it lets go, the copy of the
// grown WAL must not run inside a commit. It goes to the checkpointer thread, and the WAL
// rewinds once the copy is done.
TEST_F(StoreTest, AWalGrownBehindAReaderIsCopiedOutsideTheCommitsThenRewinds) {
  StoreOptions o;
  o.path = db();
  o.max_backlog = 0;
  o.checkpoint_catchup_frames = 200;
  auto opened = Store::Open(o);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  auto store = opened.value();
  AppendAndWait(*store, MakeBatch(10));

  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db().c_str(), &reader, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM event_log;", nullptr, nullptr, nullptr),
      SQLITE_OK);
  const std::string payload(600, 'x');
  for (int i = 0; i < 120; ++i) {
    EventBatch b;
    for (int j = 0; j < 20; ++j) b.Add("dev", "t", "\"" + payload + "\"", true, 1000);
    ASSERT_TRUE(AppendAndWait(*store, std::move(b)).status.ok());
  }
  StoreStats pinned = store->Stats();
  EXPECT_GT(pinned.wal_frames, 200) << "the reader should have pinned the WAL";
  EXPECT_GT(pinned.checkpoints_deferred, 0);
  sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(reader);

  // Commits go on; the checkpointer copies the backlog of frames, the hook the last few, and
  // the WAL rewinds (a commit then finds a short WAL).
  int64_t frames = pinned.wal_frames;
  int singles = 0;
  for (int i = 0; i < 200 && frames >= 200; ++i) {
    AppendAndWait(*store, MakeBatch(1));
    ++singles;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    frames = store->Stats().wal_frames;
  }
  StoreStats after = store->Stats();
  EXPECT_LT(frames, 200) << "the WAL never rewound: background " << after.background_checkpoints
                         << ", deferred " << after.checkpoints_deferred << ", in-commit "
                         << after.checkpoints << " (largest " << after.inline_checkpoint_max_frames
                         << " frames)";
  EXPECT_GT(after.background_checkpoints, 0) << "the big copy ran inside commits";
  // In-commit checkpoints ran only on a short remainder: never one with 200+ frames to copy.
  EXPECT_LT(after.inline_checkpoint_max_frames, 200);
  store->Close();
  EXPECT_EQ(CountEvents(db()), 10 + 120 * 20 + singles);
}

// Issue 16.3: a BUSY from a commit was reported as "not an error (sqlite code 5)": the
// connection's last message was about another call.
TEST_F(StoreTest, SqliteErrorsNameTheCodeTheyAreAbout) {
  sqlite3* conn = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &conn), SQLITE_OK);
  Status s = sql::MapError(SQLITE_BUSY, conn, "insert events");
  EXPECT_EQ(s.code(), Status::Code::kBusy);
  EXPECT_NE(s.message().find("database is locked"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("not an error"), std::string::npos) << s.message();
  // The connection's own message is used when it is about this very code.
  sqlite3_exec(conn, "SELECT * FROM no_such_table", nullptr, nullptr, nullptr);
  s = sql::MapError(SQLITE_ERROR, conn, "select");
  EXPECT_NE(s.message().find("no such table"), std::string::npos) << s.message();
  sqlite3_close(conn);
}

TEST_F(StoreTest, SecondOpenOfTheSameFileIsRefusedWithTheLockName) {
  auto first = Open();
  StoreOptions o;
  o.path = db();
  auto second = Store::Open(o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kBusy);
  EXPECT_NE(second.status().message().find(db() + ".lock"), std::string::npos)
      << second.status().message();
}

}  // namespace
}  // namespace cistern::testing
