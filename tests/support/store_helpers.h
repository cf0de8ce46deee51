// Helpers for tests that drive a Store directly (no HTTP).
#pragma once

#include <chrono>
#include <future>
#include <string>

#include "event/event.h"
#include "store/store.h"

namespace cistern::testing {

// A batch of `n` events from `device`.
inline EventBatch MakeBatch(int n, const std::string& device = "dev", int64_t ts = 1000) {
  EventBatch b;
  for (int i = 0; i < n; ++i)
    b.Add(device, "telemetry", R"({"i":)" + std::to_string(i) + "}", true, ts);
  return b;
}

// Options for a store whose tests count its commits: the retention pass (a transaction of
// its own, once a second by default) is held off for an hour, so a slow run (ASan) sees none.
inline StoreOptions CommitCountingOptions(std::string path) {
  StoreOptions o;
  o.path = std::move(path);
  o.maintenance_interval = std::chrono::hours(1);
  return o;
}

// Appends and waits for the completion.
inline AppendResult AppendAndWait(Store& store, EventBatch batch) {
  std::promise<AppendResult> p;
  auto f = p.get_future();
  store.Append(std::move(batch), [&p](const AppendResult& r) { p.set_value(r); });
  return f.get();
}

}  // namespace cistern::testing
