// The status page served at GET /: one self-contained HTML document (inline CSS and script,
// no CDN, no build step) that polls /stats and draws live charts of the ingest rate, the
// upload rate and the backlog, with the uploader's health and last error, and the MQTT
// listener's connections, messages and acks when it runs.
// Thread-safety: returns a view of a static constant.
#pragma once

#include <string_view>

namespace cistern {

std::string_view StatusPageHtml();

}  // namespace cistern
