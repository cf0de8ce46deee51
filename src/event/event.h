// The Event value type and EventBatch, the validated, ready-to-bind events of one request.
//
// An EventBatch keeps every string of the request in one arena so that parsing a request costs
// two allocations, not several per event, and the writer can bind the values with
// SQLITE_STATIC. A batch is immutable once parsed; it may be moved between threads (the io
// thread parses it, the writer thread binds it) but not shared while being written.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cistern {

// One event as the store sees it. Views point into the owning EventBatch.
struct EventView {
  std::string_view device_id;
  std::string_view kind;
  std::string_view payload_json;  // compact JSON; meaningful only when has_payload
  bool has_payload = false;       // false: stored as SQL NULL
  int64_t ts = 0;                 // unix ms, never 0 once parsed (server-stamped)
};

class EventBatch {
 public:
  size_t size() const { return refs_.size(); }
  bool empty() const { return refs_.empty(); }
  EventView operator[](size_t i) const;

  // Appends one event; the strings are copied into the arena.
  void Add(std::string_view device_id, std::string_view kind, std::string_view payload_json,
           bool has_payload, int64_t ts);
  void Reserve(size_t events, size_t arena_bytes);
  void Clear();

 private:
  struct Ref {
    uint32_t device_off, device_len, kind_off, kind_len, payload_off, payload_len;
    bool has_payload;
    int64_t ts;
  };
  uint32_t Append(std::string_view s);

  std::string arena_;
  std::vector<Ref> refs_;
};

inline EventView EventBatch::operator[](size_t i) const {
  const Ref& r = refs_[i];
  std::string_view a(arena_);
  return EventView{a.substr(r.device_off, r.device_len), a.substr(r.kind_off, r.kind_len),
                   a.substr(r.payload_off, r.payload_len), r.has_payload, r.ts};
}

inline uint32_t EventBatch::Append(std::string_view s) {
  auto off = static_cast<uint32_t>(arena_.size());
  arena_.append(s);
  return off;
}

inline void EventBatch::Add(std::string_view device_id, std::string_view kind,
                            std::string_view payload_json, bool has_payload, int64_t ts) {
  Ref r{};
  r.device_off = Append(device_id);
  r.device_len = static_cast<uint32_t>(device_id.size());
  r.kind_off = Append(kind);
  r.kind_len = static_cast<uint32_t>(kind.size());
  r.payload_off = Append(payload_json);
  r.payload_len = static_cast<uint32_t>(payload_json.size());
  r.has_payload = has_payload;
  r.ts = ts;
  refs_.push_back(r);
}

inline void EventBatch::Reserve(size_t events, size_t arena_bytes) {
  refs_.reserve(events);
  arena_.reserve(arena_bytes);
}

inline void EventBatch::Clear() {
  refs_.clear();
  arena_.clear();
}

}  // namespace cistern
