// WalWatch and ReadOnlyDb's wait for a short WAL (docs/mcp.md, "Sharing the live file"): the
// figures read from the -shm are SQLite's own, and a query on a long WAL starts only once the
// writer has rewound it (or the wait ran out).
#include "mcp/wal_watch.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "mcp/mcp_test_db.h"
#include "mcp/readonly_db.h"
#include "store/sqlite.h"
#include "support/temp_dir.h"

namespace cistern::mcp {
namespace {

using namespace std::chrono_literals;

class WalWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/events.db";
    testing::MakeTestDb(path_);
    auto db = sql::Db::Open(path_, sql::Db::Mode::kReadWrite);
    ASSERT_TRUE(db.ok()) << db.status().message();
    writer_ = std::move(*db);
    sqlite3_wal_autocheckpoint(writer_->handle(), 0);  // the test decides when to checkpoint
    ASSERT_EQ(Checkpoint(SQLITE_CHECKPOINT_TRUNCATE), SQLITE_OK);
  }

  // Appends `n` frames' worth of writes (one page-sized payload per transaction).
  void Write(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(writer_
                      ->Exec("INSERT INTO event_log(device_id, kind, payload_json, ts) "
                             "VALUES ('w','t', json_quote(hex(randomblob(1500))), 1)")
                      .ok());
    }
  }

  int Checkpoint(int mode, int* log = nullptr, int* copied = nullptr) {
    return sqlite3_wal_checkpoint_v2(writer_->handle(), nullptr, mode, log, copied);
  }

  testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<sql::Db> writer_;
};

TEST_F(WalWatchTest, ReadsTheFramesAndTheCopiedFramesSqliteReports) {
  WalWatch watch(path_);
  Write(50);
  // A reader that started now pins the frames written after it.
  auto reader = sql::Db::Open(path_, sql::Db::Mode::kReadOnly);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->Exec("BEGIN; SELECT count(*) FROM event_log;").ok());
  Write(30);
  int log = -1, copied = -1;
  ASSERT_EQ(Checkpoint(SQLITE_CHECKPOINT_PASSIVE, &log, &copied), SQLITE_OK);
  ASSERT_GT(log, copied);  // the pinned frames were not copied
  auto figures = watch.Read();
  ASSERT_TRUE(figures.has_value());
  EXPECT_EQ(figures->frames, static_cast<uint32_t>(log));
  EXPECT_EQ(figures->backfilled, static_cast<uint32_t>(copied));

  ASSERT_TRUE((*reader)->Exec("COMMIT").ok());
  ASSERT_EQ(Checkpoint(SQLITE_CHECKPOINT_TRUNCATE), SQLITE_OK);
  figures = watch.Read();
  ASSERT_TRUE(figures.has_value());
  EXPECT_EQ(figures->frames, 0u);
}

TEST_F(WalWatchTest, NoWalIndexMeansNoFiguresAndNoWait) {
  WalWatch watch(dir_.path() + "/absent.db");
  EXPECT_FALSE(watch.Read().has_value());
  EXPECT_EQ(watch.WaitUntilShort(10, 5s).count(), 0);
}

TEST_F(WalWatchTest, AQueryOnALongWalStartsOnceTheWriterRewoundIt) {
  auto db = ReadOnlyDb::Open(path_);
  ASSERT_TRUE(db.ok()) << db.status().message();
  Write(ReadOnlyDb::kShortWalFrames + 100);
  auto figures = WalWatch(path_).Read();
  ASSERT_TRUE(figures.has_value());
  ASSERT_GT(figures->frames, ReadOnlyDb::kShortWalFrames);
  ASSERT_LT(figures->backfilled, figures->frames);

  std::atomic<bool> rewound{false};
  auto query = std::async(std::launch::async, [&] {
    auto r = (*db)->Query("SELECT count(*) FROM event_log", QueryLimits{1, 5s, 30s});
    return std::make_pair(r.ok() ? r->waited_ms : -1, rewound.load());
  });
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(query.wait_for(0s), std::future_status::timeout) << "the query did not wait";
  rewound = true;
  ASSERT_EQ(Checkpoint(SQLITE_CHECKPOINT_TRUNCATE), SQLITE_OK);
  auto [waited_ms, after_rewind] = query.get();
  EXPECT_TRUE(after_rewind) << "the query started before the WAL was rewound";
  EXPECT_GE(waited_ms, 300);
  EXPECT_FALSE((*db)->InTransaction());
}

TEST_F(WalWatchTest, TheWaitEndsAfterItsLimitAndTheQueryStillRuns) {
  auto db = ReadOnlyDb::Open(path_);
  ASSERT_TRUE(db.ok());
  Write(ReadOnlyDb::kShortWalFrames + 100);
  auto r = (*db)->Query("SELECT count(*) FROM event_log", QueryLimits{1, 5s, 200ms});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_GE(r->waited_ms, 200);
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(r->rows[0][0]), 5 + ReadOnlyDb::kShortWalFrames + 100);
}

TEST_F(WalWatchTest, AShortWalOrNoWaitStartsAtOnce) {
  auto db = ReadOnlyDb::Open(path_);
  ASSERT_TRUE(db.ok());
  Write(10);
  auto r = (*db)->Query("SELECT count(*) FROM event_log", QueryLimits{1, 5s, 30s});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->waited_ms, 0);
  Write(ReadOnlyDb::kShortWalFrames + 100);
  r = (*db)->Query("SELECT count(*) FROM event_log", QueryLimits{1, 5s, 0ms});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->waited_ms, 0);
}

// A statement that never ends by itself (it counts to 10^12).
constexpr const char* kEndless =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000000) "
    "SELECT max(x) FROM c";

TEST_F(WalWatchTest, AQueryIsStoppedOnceTheWalGrewPastItsBudget) {
  auto db = ReadOnlyDb::Open(path_);
  ASSERT_TRUE(db.ok());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    while (!stop) Write(1);
  });
  auto t0 = std::chrono::steady_clock::now();
  auto r = (*db)->Query(kEndless, QueryLimits{1, 60s, 0ms, int64_t{1} << 20});
  auto took = std::chrono::steady_clock::now() - t0;
  stop = true;
  writer.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(r.status().message().find("--wal-budget 1.0 MiB"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("--snapshot"), std::string::npos);
  EXPECT_LT(took, 30s) << "stopped by the timeout, not the budget";
  EXPECT_FALSE((*db)->InTransaction());
}

TEST_F(WalWatchTest, AQuietWalNeverStopsAQuery) {
  auto db = ReadOnlyDb::Open(path_);
  ASSERT_TRUE(db.ok());
  auto r = (*db)->Query(kEndless, QueryLimits{1, 500ms, 0ms, 1});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("timed out"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace cistern::mcp
