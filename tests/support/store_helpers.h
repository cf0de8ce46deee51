// Helpers for tests that drive a Store directly (no HTTP).
#pragma once

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

// Appends and waits for the completion.
inline AppendResult AppendAndWait(Store& store, EventBatch batch) {
  std::promise<AppendResult> p;
  auto f = p.get_future();
  store.Append(std::move(batch), [&p](const AppendResult& r) { p.set_value(r); });
  return f.get();
}

}  // namespace cistern::testing
