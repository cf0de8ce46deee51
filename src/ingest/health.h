// GET /readyz (and /healthz): readiness, with the upstream's state reported beside it
// (docs/api.md, "Health"). /livez needs no figures and is answered by the router.
// Thread-safety: reads the store's and the uploader's thread-safe state only.
#pragma once

#include <string>

#include "common/component_status.h"
#include "store/store.h"

namespace cistern {

struct Readiness {
  bool ready = false;  // 200 when true, 503 otherwise
  std::string body;    // {ok, ready, store, backlog, backlog_ok, uploader, upstream_ok}
};

// `uploader` may be null (no uploader configured).
Readiness CheckReadiness(Store& store, const ComponentStatus* uploader);

}  // namespace cistern
