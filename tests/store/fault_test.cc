// Disk faults injected deterministically through FaultVfs (tests/support/fault_vfs.h): no
// tmpfs, no root. A full disk is answered DiskFull (507) and writes resume once space
// returns, whatever the transaction held (appends, the uploader's bookkeeping); an I/O error
// or failed fsync leaves the file state unknown, so the store refuses writes until it is
// reopened, and the uploader stops shipping what it could never record.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <future>
#include <thread>

#include "store/lifecycle.h"
#include "store/schema.h"
#include "store/store.h"
#include "store/write_shared.h"
#include "support/fault_vfs.h"
#include "support/sqlite_peek.h"
#include "support/store_helpers.h"
#include "support/temp_dir.h"
#include "uploader/uploader.h"

namespace cistern::testing {
namespace {

class StoreFaultTest : public ::testing::Test {
 protected:
  std::shared_ptr<Store> Open() {
    StoreOptions o;
    o.path = db();
    o.max_backlog = 0;
    auto s = Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? s.value() : nullptr;
  }
  std::string db() const { return dir_.File("events.db"); }
  UploadBatch ReadPending(Store& store, size_t limit) {
    UploadBatch b;
    auto reader = store.OpenBacklogReader();
    EXPECT_TRUE(reader.ok());
    EXPECT_TRUE((*reader)->Read(limit, &b).ok());
    return b;
  }
  TempDir dir_;
  FaultVfs vfs_;  // registered before any connection opens, unregistered after they close
};

TEST_F(StoreFaultTest, DiskFullIsDiskFullForEveryWriteAndResumesWhenSpaceReturns) {
  auto store = Open();
  ASSERT_TRUE(AppendAndWait(*store, MakeBatch(10)).status.ok());
  UploadBatch shipped = ReadPending(*store, 4);
  ASSERT_EQ(shipped.size(), 4u);

  vfs_.FailNthWrite(1, SQLITE_FULL, /*persist=*/true);
  EXPECT_EQ(AppendAndWait(*store, MakeBatch(3)).status.code(), Status::Code::kDiskFull);
  EXPECT_EQ(store->MarkUploaded(shipped, 0).code(), Status::Code::kDiskFull);
  EXPECT_EQ(store->RecordFailedRun(0, 3, "down").code(), Status::Code::kDiskFull);
  EXPECT_TRUE(store->Health().ok()) << "a full disk is not a failed store";
  auto st = store->Stats();
  EXPECT_EQ(st.backlog, 10);
  EXPECT_EQ(st.upload_cursor, 0);

  vfs_.ClearFaults();  // space returns
  auto r = AppendAndWait(*store, MakeBatch(3));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.first_id, 11) << "the refused request took no ids";
  ASSERT_TRUE(store->MarkUploaded(shipped, 0).ok());
  st = store->Stats();
  EXPECT_EQ(st.backlog, 9);
  EXPECT_EQ(st.upload_cursor, 4);
  store->Close();
  EXPECT_EQ(CountEvents(db()), 13);
  EXPECT_EQ(QueryInt(db(), "SELECT sum(pending) FROM devices"), 9);
  EXPECT_EQ(QueryRows(db(), "PRAGMA integrity_check")[0][0], "ok");
}

// The uploader's bookkeeping and a request in one group meet a full disk at COMMIT: both get
// DiskFull, the store stays writable (before the fix a job's failure could leave the store
// sticky-failed, answering 500 until restart).
TEST_F(StoreFaultTest, DiskFullInAGroupHoldingAnOpAndARequestFailsBothButNotTheStore) {
  auto store = Open();
  ASSERT_TRUE(AppendAndWait(*store, MakeBatch(5)).status.ok());
  UploadBatch shipped = ReadPending(*store, 5);
  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &blocker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::promise<AppendResult> first, second;
  std::promise<Status> op;
  std::vector<std::thread> threads;
  threads.emplace_back([&] { first.set_value(AppendAndWait(*store, MakeBatch(1, "first"))); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the writer waits in BEGIN
  threads.emplace_back([&] { op.set_value(store->MarkUploaded(shipped, 0)); });
  threads.emplace_back([&] { second.set_value(AppendAndWait(*store, MakeBatch(2, "second"))); });
  for (int i = 0; i < 100 && store->Stats().queue_depth < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(store->Stats().queue_depth, 2) << "the op and the request wait together";
  // The disk is full before either group reaches its COMMIT.
  vfs_.FailNthWrite(1, SQLITE_FULL, /*persist=*/true);
  ASSERT_EQ(sqlite3_exec(blocker, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(blocker);
  AppendResult a = first.get_future().get();
  Status marked = op.get_future().get();
  AppendResult b = second.get_future().get();
  for (auto& t : threads) t.join();
  EXPECT_EQ(a.status.code(), Status::Code::kDiskFull) << a.status.message();
  EXPECT_EQ(marked.code(), Status::Code::kDiskFull) << marked.message();
  EXPECT_EQ(b.status.code(), Status::Code::kDiskFull) << b.status.message();
  EXPECT_TRUE(store->Health().ok());
  vfs_.ClearFaults();
  EXPECT_TRUE(store->MarkUploaded(shipped, 0).ok());
  EXPECT_TRUE(AppendAndWait(*store, MakeBatch(2, "second")).status.ok());
  auto st = store->Stats();
  EXPECT_EQ(st.backlog, 2);
  EXPECT_EQ(st.upload_cursor, 5);
}

TEST_F(StoreFaultTest, AFailedFsyncRefusesEveryLaterWriteUntilReopened) {
  auto store = Open();
  ASSERT_TRUE(AppendAndWait(*store, MakeBatch(4)).status.ok());
  vfs_.FailNthSync(1, SQLITE_IOERR_FSYNC);
  EXPECT_EQ(AppendAndWait(*store, MakeBatch(1)).status.code(), Status::Code::kIoError);
  EXPECT_FALSE(store->Health().ok());
  // The fault is gone, but the file state is unknown: the error stays.
  auto again = AppendAndWait(*store, MakeBatch(1));
  EXPECT_EQ(again.status.code(), Status::Code::kIoError);
  EXPECT_NE(again.status.message().find("until restart"), std::string::npos);
  EXPECT_FALSE(store->Accepting());
  store->Close();
  store.reset();
  store = Open();
  ASSERT_TRUE(store->Health().ok());
  EXPECT_TRUE(AppendAndWait(*store, MakeBatch(1)).status.ok());
  EXPECT_GE(CountEvents(db()), 5);
}

// Counts every Send; fails while `fail` is set.
class CountingSink : public Sink {
 public:
  std::string name() const override { return "counting"; }
  SendResult Send(const UploadBatch&) override {
    sends++;
    return fail ? SendResult::Retry("upstream down (test)") : SendResult::Ok();
  }
  std::atomic<int> sends{0};
  std::atomic<bool> fail{true};
};

// With the store failed for good nothing shipped could ever be recorded: the uploader must
// stop shipping, not send the same batch upstream every backoff until a restart.
TEST_F(StoreFaultTest, TheUploaderShipsNothingWhileTheStoreHasFailed) {
  auto store = Open();
  ASSERT_TRUE(AppendAndWait(*store, MakeBatch(30)).status.ok());
  auto sink = std::make_unique<CountingSink>();
  CountingSink* counting = sink.get();
  UploaderOptions o;
  o.interval = std::chrono::milliseconds(10);
  o.initial_backoff = std::chrono::milliseconds(10);
  o.max_backoff = std::chrono::milliseconds(20);
  Uploader up(store, std::move(sink), o);
  ASSERT_TRUE(up.Start().ok());
  for (int i = 0; i < 200 && counting->sends < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(counting->sends.load(), 2) << "the uploader never tried";
  // The store fails (an fsync error on the next commit), then upstream comes back.
  vfs_.FailNthSync(1, SQLITE_IOERR_FSYNC);
  EXPECT_EQ(AppendAndWait(*store, MakeBatch(1)).status.code(), Status::Code::kIoError);
  ASSERT_FALSE(store->Health().ok());
  counting->fail = false;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a cycle in flight ends
  const int sends = counting->sends.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // ~20 backoffs
  EXPECT_EQ(counting->sends.load(), sends) << "shipped batches that can never be recorded";
  EXPECT_EQ(up.State(), "store failed");
  up.Stop(std::chrono::milliseconds(0));
}

// A full disk met inside one op's statement: SQLite may roll back the whole transaction (it
// does for a page it cannot allocate). Then the transaction fails as DiskFull, and the store
// stays writable. Before the fix the savepoint rollback that followed failed ("no such
// savepoint") and turned the store sticky-failed: 500 for every request until restart.
TEST(WriteSharedTest, DiskFullInsideAnOpFailsItsTransactionAsDiskFullNotForGood) {
  TempDir dir;
  auto db = sql::Db::Open(dir.File("e.db"), sql::Db::Mode::kReadWrite);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(ConfigureWriter(**db).ok());
  ASSERT_TRUE(Migrate(**db, false).ok());
  StoreCounters counters;
  BufferState buffer;
  BufferPolicy policy(BufferLimits{});
  WriteState state;
  state.counters = &counters;
  state.buffer = &buffer;
  state.policy = &policy;
  auto lifecycle = Lifecycle::Prepare(**db);
  ASSERT_TRUE(lifecycle.ok());
  std::lock_guard txn(buffer.txn_mu);
  ASSERT_TRUE((*lifecycle)->Load(&buffer, &counters).ok());
  // No page may be added: a failure message long enough to need overflow pages cannot be
  // stored, while a small event fits in the table's existing page.
  auto pages = (*db)->QueryInt("PRAGMA page_count");
  ASSERT_TRUE((*db)->Exec("PRAGMA max_page_count = " + std::to_string(*pages)).ok());
  auto run = [&](std::string error, Status* op_status) {
    std::vector<WriteItem> items;
    AppendItem append;
    append.batch = MakeBatch(1, "kept");
    append.done = [](const AppendResult&) {};
    items.emplace_back(std::move(append));
    items.emplace_back(OpItem{FailedRunOp{1, 2, 1, std::move(error)}, [](const OpResult&) {}, {}});
    sqlite3* raw = (*db)->handle();
    EXPECT_EQ(sqlite3_exec(raw, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    TxnEffects fx = TxnEffects::Begin(buffer);
    int rc = RunItems(raw, **lifecycle, &state, items, 1000, &fx);
    if (rc == SQLITE_OK) rc = sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK && !sqlite3_get_autocommit(raw)) {
      sqlite3_exec(raw, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    *op_status = std::get<OpItem>(items[1]).result.status;
    return rc == SQLITE_OK ? Status::Ok() : ClassifyFailure(rc, raw, "store", &state);
  };
  Status op;
  Status txn_status = run(std::string(20000, 'x'), &op);
  EXPECT_EQ(txn_status.code(), Status::Code::kDiskFull) << txn_status.message();
  EXPECT_TRUE(StickyError(&state).ok()) << "a full disk must not fail the store for good";
  EXPECT_EQ(*(*db)->QueryInt("SELECT count(*) FROM event_log"), 0) << "all or nothing";
  // Space returns (here: a failure short enough to fit): the same transaction commits.
  txn_status = run("short", &op);
  EXPECT_TRUE(txn_status.ok()) << txn_status.message();
  EXPECT_TRUE(op.ok()) << op.message();
  EXPECT_EQ(*(*db)->QueryInt("SELECT count(*) FROM event_log"), 1);
  EXPECT_EQ(*(*db)->QueryInt("SELECT count(*) FROM upload_runs"), 1);
}

}  // namespace
}  // namespace cistern::testing
