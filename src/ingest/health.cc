#include "ingest/health.h"

#include "common/json_writer.h"

namespace cistern {

Readiness CheckReadiness(Store& store, const ComponentStatus* uploader) {
  // Readiness: events sent now would be stored (store healthy; below the bound, or evicting
  // to make room). The sink's state is reported, never a reason to leave rotation: during an
  // upstream outage the buffer is exactly what is needed (docs/api.md, "Health").
  StoreStats s = store.Stats();
  const Status store_health = store.Health();
  const bool accepting = store.Accepting();
  const bool backlog_ok = (s.max_backlog == 0 || s.backlog < s.max_backlog) &&
                          (s.max_db_bytes == 0 || s.used_bytes < s.max_db_bytes);
  const bool upstream_ok = uploader == nullptr || uploader->Healthy();
  JsonWriter w;
  w.BeginObject();
  w.Key("ok");
  w.Bool(accepting);
  w.Key("ready");
  w.Bool(accepting);
  w.Key("store");
  w.String(store_health.ok() ? "ok" : store_health.message());
  w.Key("backlog");
  w.Int(s.backlog);
  w.Key("backlog_ok");
  w.Bool(backlog_ok);
  w.Key("uploader");
  w.String(uploader ? uploader->State() : "not configured");
  w.Key("upstream_ok");
  w.Bool(upstream_ok);
  w.EndObject();
  return Readiness{accepting, w.Take()};
}

}  // namespace cistern
