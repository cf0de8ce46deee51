#include "sinks/api/upload_batch.h"

#include "common/json_writer.h"

namespace cistern {

void AppendEventJson(const UploadBatch& batch, size_t i, std::string* out) {
  EventView e = batch.events[i];
  *out += "{\"id\":";
  *out += std::to_string(batch.ids[i]);
  *out += ",\"node_id\":";
  AppendJsonString(out, batch.node_id);
  *out += ",\"device_id\":";
  AppendJsonString(out, e.device_id);
  *out += ",\"kind\":";
  AppendJsonString(out, e.kind);
  *out += ",\"payload\":";
  if (e.has_payload) {
    out->append(e.payload_json);
  } else {
    *out += "null";
  }
  *out += ",\"ts\":";
  *out += std::to_string(e.ts);
  *out += '}';
}

std::string BatchJson(const UploadBatch& batch) {
  std::string out;
  out.reserve(64 + batch.size() * 160);
  out += '[';
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i) out += ',';
    AppendEventJson(batch, i, &out);
  }
  out += ']';
  return out;
}

std::string EventKey(const UploadBatch& batch, size_t i) {
  return batch.node_id + "-" + std::to_string(batch.ids[i]);
}

std::string BatchKey(const UploadBatch& batch) {
  return batch.node_id + "-" + std::to_string(batch.first_id()) + "-" +
         std::to_string(batch.last_id());
}

std::string FillTemplate(std::string_view templ, const UploadBatch& batch, size_t i, bool nats) {
  auto clean = [nats](std::string_view v) {
    std::string s(v);
    for (char& c : s) {
      bool special = nats ? (c == '.' || c == '*' || c == '>' || c == ' ' || c == '\t')
                          : (c == '/' || c == '+' || c == '#');
      if (special) c = '_';
    }
    return s;
  };
  EventView e = batch.events[i];
  std::string out;
  size_t pos = 0;
  while (pos < templ.size()) {
    size_t open = templ.find('<', pos);
    if (open == std::string_view::npos) {
      out.append(templ.substr(pos));
      break;
    }
    out.append(templ.substr(pos, open - pos));
    size_t close = templ.find('>', open);
    if (close == std::string_view::npos) {
      out.append(templ.substr(open));
      break;
    }
    std::string_view name = templ.substr(open + 1, close - open - 1);
    if (name == "device_id") {
      out += clean(e.device_id);
    } else if (name == "kind") {
      out += clean(e.kind);
    } else if (name == "node_id") {
      out += clean(batch.node_id);
    } else {
      out.append(templ.substr(open, close - open + 1));  // unknown: kept as written
    }
    pos = close + 1;
  }
  return out;
}

}  // namespace cistern
