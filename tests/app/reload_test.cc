// MergeLive: a reload takes the live settings of the new config and keeps every other one.
#include "app/reload.h"

#include <gtest/gtest.h>

namespace cistern {
namespace {

TEST(MergeLive, AppliesLiveSettingsAndKeepsThoseThatNeedARestart) {
  Config running;
  Config next = running;
  next.log_level = "debug";
  next.router.ingest_tokens = {"t"};
  next.router.parse.max_events = 7;
  next.uploader.interval = std::chrono::milliseconds(250);
  next.uploader.max_backoff = std::chrono::milliseconds(100);
  next.uploader.initial_backoff = std::chrono::milliseconds(100);
  next.store.max_backlog = 9;
  next.store.on_full = OnFull::kDropOldest;
  next.store.retain_uploaded = std::chrono::milliseconds(0);
  next.store.path = "other.db";
  next.server.port = 9999;
  next.sink.name = "webhook";
  next.router.max_body_bytes = 1;

  ReloadOutcome out;
  Config m = MergeLive(running, next, &out);
  EXPECT_EQ(m.log_level, "debug");
  EXPECT_EQ(m.router.ingest_tokens, std::vector<std::string>{"t"});
  EXPECT_EQ(m.router.parse.max_events, 7u);
  EXPECT_EQ(m.uploader.interval.count(), 250);
  EXPECT_EQ(m.uploader.max_backoff.count(), 100);
  EXPECT_EQ(m.uploader.initial_backoff.count(), 100);
  EXPECT_EQ(m.store.max_backlog, 9);
  EXPECT_EQ(m.store.on_full, OnFull::kDropOldest);
  EXPECT_EQ(m.store.retain_uploaded.count(), 0);
  EXPECT_EQ(m.store.path, running.store.path);
  EXPECT_EQ(m.server.port, running.server.port);
  EXPECT_EQ(m.sink.name, running.sink.name);
  EXPECT_EQ(m.router.max_body_bytes, running.router.max_body_bytes);
  EXPECT_EQ(out.restart, (std::vector<std::string>{"db", "addr", "max-body-bytes", "sink"}));
  EXPECT_EQ(out.applied.size(), 8u);
  EXPECT_EQ(out.applied[0], "log-level info -> debug");
  EXPECT_EQ(out.applied[1], "auth-token-file (0 -> 1 token(s))");
}

TEST(MergeLive, NothingChangedIsNothingApplied) {
  Config c;
  ReloadOutcome out;
  MergeLive(c, c, &out);
  EXPECT_TRUE(out.applied.empty());
  EXPECT_TRUE(out.restart.empty());
}

}  // namespace
}  // namespace cistern
