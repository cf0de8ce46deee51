// The uploader against a real store and an in-process sink (the real sinks have their own
// tests against real servers; this one is about the cycle: order, checkpoint, retries,
// retention, drain).
#include "uploader/uploader.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>

#include "common/clock.h"
#include "support/sqlite_peek.h"
#include "support/store_helpers.h"
#include "support/temp_dir.h"

namespace cistern::testing {
namespace {

// Records what it is sent; fails while `fail` is true.
class RecordingSink : public Sink {
 public:
  std::string name() const override { return "recording"; }
  SendResult Send(const UploadBatch& batch) override {
    std::lock_guard lock(mu);
    ++calls;
    if (fail) return SendResult::Retry("upstream down (test)");
    for (int64_t id : batch.ids) ids.push_back(id);
    node_ids.insert(batch.node_id);
    return SendResult::Ok();
  }
  std::mutex mu;
  bool fail = false;
  int calls = 0;
  std::vector<int64_t> ids;
  std::set<std::string> node_ids;
};

// What a sink the uploader owns (and destroys at a switch) leaves for the test to read.
struct SinkRecord {
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;     // Send waits while true
  bool holding = false;  // a Send is waiting
  bool fail = false;
  int calls = 0;
  std::vector<int64_t> ids;
  bool destroyed = false;
};

// Like RecordingSink, through a SinkRecord that outlives it; Send can be held (a batch in
// flight) and released by the test.
class SharedRecordSink : public Sink {
 public:
  SharedRecordSink(std::string name, std::shared_ptr<SinkRecord> r)
      : name_(std::move(name)), r_(std::move(r)) {}
  ~SharedRecordSink() override {
    std::lock_guard lock(r_->mu);
    r_->destroyed = true;
  }
  std::string name() const override { return name_; }
  SendResult Send(const UploadBatch& batch) override {
    std::unique_lock lock(r_->mu);
    ++r_->calls;
    r_->holding = r_->hold;
    r_->cv.notify_all();
    r_->cv.wait(lock, [&] { return !r_->hold; });
    r_->holding = false;
    if (r_->fail) return SendResult::Retry("upstream down (test)");
    for (int64_t id : batch.ids) r_->ids.push_back(id);
    return SendResult::Ok();
  }

 private:
  const std::string name_;
  const std::shared_ptr<SinkRecord> r_;
};

class UploaderTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = OpenStore(StoreOptions{}); }
  std::shared_ptr<Store> OpenStore(StoreOptions o) {
    o.path = dir_.File("events.db");
    o.max_backlog = o.max_backlog == 50'000 ? 0 : o.max_backlog;
    auto s = Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.value();
  }
  UploaderOptions Fast() {
    UploaderOptions o;
    o.interval = std::chrono::milliseconds(20);
    o.batch = 100;
    o.initial_backoff = std::chrono::milliseconds(10);
    o.max_backoff = std::chrono::milliseconds(40);
    return o;
  }
  // Polls until pred() or 15 s.
  template <typename P>
  bool Eventually(P pred) {
    for (int i = 0; i < 1500; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
  }
  std::string db() const { return dir_.File("events.db"); }
  TempDir dir_;
  std::shared_ptr<Store> store_;
};

TEST_F(UploaderTest, ShipsEverythingOnceInIdOrderThenCheckpoints) {
  const int64_t before = UnixMillis();
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(
        AppendAndWait(*store_, MakeBatch(10, "dev" + std::to_string(i % 4), 1000 + i)).status.ok());
  }
  auto sink = std::make_unique<RecordingSink>();
  RecordingSink* rec = sink.get();
  Uploader up(store_, std::move(sink), Fast());
  ASSERT_TRUE(up.Start().ok());
  ASSERT_TRUE(Eventually([&] { return store_->Stats().backlog == 0; }));
  up.Stop(std::chrono::milliseconds(0));
  std::lock_guard lock(rec->mu);
  ASSERT_EQ(rec->ids.size(), 250u);
  for (size_t i = 0; i < rec->ids.size(); ++i) EXPECT_EQ(rec->ids[i], static_cast<int64_t>(i + 1));
  EXPECT_EQ(rec->node_ids, std::set<std::string>{store_->Stats().node_id});
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM pending_events"), 0);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM events WHERE uploaded_at IS NULL"), 0);
  EXPECT_EQ(QueryInt(db(), "SELECT value FROM meta WHERE key = 'upload_cursor'"), 250);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM upload_runs WHERE status = 'ok'"), 3);
  EXPECT_EQ(QueryInt(db(), "SELECT sum(event_count) FROM upload_runs WHERE status = 'ok'"), 250);
  // The runs tile the shipped ids: 1-100, 101-200, 201-250.
  EXPECT_EQ(QueryRows(db(),
                      "SELECT group_concat(first_id || '-' || last_id, ',') FROM "
                      "(SELECT * FROM upload_runs WHERE status = 'ok' ORDER BY id)")[0][0],
            "1-100,101-200,201-250");
  // devices: label = key, nothing pending, last_seen_at = when it was last stored.
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM devices WHERE label = device_key"), 4);
  EXPECT_EQ(QueryInt(db(), "SELECT sum(pending) FROM devices"), 0);
  int64_t seen = QueryInt(db(), "SELECT last_seen_at FROM devices WHERE device_key = 'dev0'");
  EXPECT_GE(seen, before);
  EXPECT_LE(seen, UnixMillis());
  EXPECT_EQ(store_->Stats().events_uploaded, 250);
}

TEST_F(UploaderTest, AFailingSinkMarksNothingRecordsErrorsAndRecovers) {
  ASSERT_TRUE(AppendAndWait(*store_, MakeBatch(30)).status.ok());
  auto sink = std::make_unique<RecordingSink>();
  RecordingSink* rec = sink.get();
  rec->fail = true;
  Uploader up(store_, std::move(sink), Fast());
  ASSERT_TRUE(up.Start().ok());
  ASSERT_TRUE(Eventually([&] { return !up.Healthy(); }));
  // Identical consecutive failures fold into one row with a count.
  ASSERT_TRUE(Eventually(
      [&] { return QueryInt(db(), "SELECT coalesce(max(attempts), 0) FROM upload_runs") >= 3; }));
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM upload_runs WHERE status = 'error'"), 1);
  EXPECT_EQ(store_->Stats().backlog, 30);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM events WHERE uploaded_at IS NOT NULL"), 0);
  EXPECT_EQ(QueryRows(db(), "SELECT error FROM upload_runs LIMIT 1")[0][0], "upstream down (test)");
  EXPECT_EQ(up.State(), "failing");
  {
    std::lock_guard lock(rec->mu);
    rec->fail = false;
  }
  ASSERT_TRUE(Eventually([&] { return store_->Stats().backlog == 0; }));
  EXPECT_TRUE(Eventually([&] { return up.Healthy(); }));
  up.Stop(std::chrono::milliseconds(0));
  std::lock_guard lock(rec->mu);
  EXPECT_EQ(rec->ids.size(), 30u);
}

TEST_F(UploaderTest, RetentionDeletesOnlyUploadedEventsAndIdsStayUnique) {
  store_->Close();
  store_.reset();
  StoreOptions so;
  so.retain_uploaded = std::chrono::milliseconds(0);
  so.maintenance_interval = std::chrono::milliseconds(20);
  store_ = OpenStore(so);
  ASSERT_TRUE(AppendAndWait(*store_, MakeBatch(120)).status.ok());
  auto sink = std::make_unique<RecordingSink>();
  RecordingSink* rec = sink.get();
  Uploader up(store_, std::move(sink), Fast());
  ASSERT_TRUE(up.Start().ok());
  ASSERT_TRUE(Eventually([&] { return CountEvents(db()) == 0; }));
  {
    std::lock_guard lock(rec->mu);
    rec->fail = true;  // from now on nothing is uploaded: nothing may be deleted
  }
  ASSERT_TRUE(AppendAndWait(*store_, MakeBatch(7)).status.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // several retention passes
  EXPECT_EQ(CountEvents(db()), 7);
  EXPECT_EQ(QueryInt(db(), "SELECT min(id) FROM events"), 121) << "ids must not be reused";
  EXPECT_EQ(store_->Stats().events_pruned, 120);
  // The transaction that deleted the newest row (120) kept the high-water mark with it.
  EXPECT_EQ(QueryInt(db(), "SELECT value FROM meta WHERE key = 'id_high_water'"), 120);
  up.Stop(std::chrono::milliseconds(0));
}

TEST_F(UploaderTest, StopDrainsTheBacklogWithinTheTimeout) {
  UploaderOptions o = Fast();
  o.interval = std::chrono::hours(1);  // only the drain can ship these
  auto sink = std::make_unique<RecordingSink>();
  Uploader up(store_, std::move(sink), o);
  ASSERT_TRUE(up.Start().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // first (empty) cycle done
  ASSERT_TRUE(AppendAndWait(*store_, MakeBatch(450)).status.ok());
  up.Stop(std::chrono::seconds(10));
  EXPECT_EQ(store_->Stats().backlog, 0);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM pending_events"), 0);
}

TEST_F(UploaderTest, DropOldestEvictsOnlyPendingEventsAndCountsThem) {
  store_->Close();
  store_.reset();
  StoreOptions o;
  o.max_backlog = 100;
  o.on_full = OnFull::kDropOldest;
  store_ = OpenStore(o);
  // 30 events shipped (kept by retention), then 250 more arrive with room for 100 pending.
  ASSERT_TRUE(AppendAndWait(*store_, MakeBatch(30, "shipped")).status.ok());
  {
    auto reader = store_->OpenBacklogReader();
    ASSERT_TRUE(reader.ok());
    UploadBatch b;
    ASSERT_TRUE((*reader)->Read(100, &b).ok());
    ASSERT_EQ(b.size(), 30u);
    ASSERT_TRUE(store_->MarkUploaded(b, 0).ok());
  }
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(AppendAndWait(*store_, MakeBatch(10)).status.ok());
  auto st = store_->Stats();
  EXPECT_EQ(st.backlog, 100);
  EXPECT_EQ(st.events_dropped, 150);
  EXPECT_EQ(st.events_pruned, 0);
  EXPECT_EQ(CountEvents(db()), 130) << "the shipped events are not what the bound counts";
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM events WHERE device_id = 'shipped'"), 30);
  EXPECT_EQ(QueryInt(db(), "SELECT min(id) FROM pending_events"), 181) << "the oldest go first";
  EXPECT_EQ(QueryInt(db(), "SELECT pending FROM devices WHERE device_key = 'dev'"), 100);
  EXPECT_EQ(st.events_written, 280);
}

TEST_F(UploaderTest, MaxDbBytesRefusesWritesUntilUploadedEventsAreDeleted) {
  store_->Close();
  store_.reset();
  StoreOptions o;
  o.max_db_bytes = 256 * 1024;
  store_ = OpenStore(o);
  int accepted = 0;
  Status last;
  for (int i = 0; i < 400 && last.ok(); ++i) {
    auto r = AppendAndWait(*store_, MakeBatch(50));
    last = r.status;
    accepted += r.status.ok() ? 50 : 0;
  }
  ASSERT_EQ(last.code(), Status::Code::kBufferFull) << "never reached the size bound";
  EXPECT_NE(last.message().find("max-db-bytes"), std::string::npos);
  int64_t rows = CountEvents(db());
  EXPECT_EQ(rows, accepted);
  // Once events are uploaded, the bound makes room by deleting uploaded ones first.
  Uploader up(store_, std::make_unique<RecordingSink>(), Fast());
  ASSERT_TRUE(up.Start().ok());
  ASSERT_TRUE(Eventually([&] { return store_->Stats().backlog == 0; }));
  bool resumed = false;
  for (int i = 0; i < 100 && !resumed; ++i) {
    resumed = AppendAndWait(*store_, MakeBatch(50)).status.ok();
    if (!resumed) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(resumed);
  up.Stop(std::chrono::milliseconds(0));
}

// A reload's sink switch (docs/configuration.md "Reload"): the batch in flight finishes on the
// old sink and is recorded, the old sink is destroyed, and the new one continues from the
// cursor: every id exactly once across the two.
TEST_F(UploaderTest, SetSinkFinishesTheBatchInFlightThenResumesFromTheCursor) {
  ASSERT_TRUE(AppendAndWait(*store_, MakeBatch(250)).status.ok());
  auto a = std::make_shared<SinkRecord>(), b = std::make_shared<SinkRecord>();
  a->hold = true;
  Uploader up(store_, std::make_unique<SharedRecordSink>("a", a), Fast());
  ASSERT_TRUE(up.Start().ok());
  {
    std::unique_lock lock(a->mu);
    ASSERT_TRUE(a->cv.wait_for(lock, std::chrono::seconds(10), [&] { return a->holding; }));
  }
  up.SetSink(std::make_unique<SharedRecordSink>("b", b));
  EXPECT_EQ(up.sink_name(), "a") << "the old sink is in effect until its batch is done";
  {
    std::lock_guard lock(a->mu);
    a->hold = false;
  }
  a->cv.notify_all();
  ASSERT_TRUE(Eventually([&] { return store_->Stats().backlog == 0; }));
  up.Stop(std::chrono::milliseconds(0));
  EXPECT_EQ(up.sink_name(), "b");
  std::vector<int64_t> first(100), rest(150);
  std::iota(first.begin(), first.end(), 1);
  std::iota(rest.begin(), rest.end(), 101);
  std::lock_guard la(a->mu), lb(b->mu);
  EXPECT_EQ(a->ids, first) << "the batch in flight finished on the old sink";
  EXPECT_EQ(b->ids, rest);
  EXPECT_TRUE(a->destroyed);
  EXPECT_EQ(QueryInt(db(), "SELECT value FROM meta WHERE key = 'upload_cursor'"), 250);
}

// A failing old sink is left at once: the backoff wait ends, the batch it failed goes to the
// new sink, and the new sink starts healthy with a fresh backoff.
TEST_F(UploaderTest, SetSinkLeavesAFailingSinkWithoutWaitingForItsBackoff) {
  ASSERT_TRUE(AppendAndWait(*store_, MakeBatch(30)).status.ok());
  auto a = std::make_shared<SinkRecord>(), b = std::make_shared<SinkRecord>();
  a->fail = true;
  UploaderOptions o = Fast();
  o.initial_backoff = std::chrono::seconds(20);  // the first wait is 10-20 s
  o.max_backoff = std::chrono::seconds(60);
  Uploader up(store_, std::make_unique<SharedRecordSink>("a", a), o);
  ASSERT_TRUE(up.Start().ok());
  ASSERT_TRUE(Eventually([&] { return !up.Healthy(); }));
  const auto switched = std::chrono::steady_clock::now();
  up.SetSink(std::make_unique<SharedRecordSink>("b", b));
  ASSERT_TRUE(Eventually([&] { return store_->Stats().backlog == 0; }));
  EXPECT_LT(std::chrono::steady_clock::now() - switched, std::chrono::seconds(5));
  EXPECT_TRUE(up.Healthy());
  up.Stop(std::chrono::milliseconds(0));
  std::lock_guard la(a->mu), lb(b->mu);
  EXPECT_EQ(a->calls, 1);
  EXPECT_TRUE(a->ids.empty());
  EXPECT_EQ(b->ids.size(), 30u);
}

}  // namespace
}  // namespace cistern::testing
