#include "mcp/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/json_writer.h"
#include "common/utf8.h"

namespace cistern::mcp {
namespace {

constexpr std::string_view kInstructions =
    "Read-only access to a Cistern edge collector's live SQLite buffer. Start with "
    "backlog_summary for the upload backlog, list_tables/describe_table for the schema, then "
    "query with one read-only SELECT. Times are unix milliseconds; the view pending_events "
    "holds the events not yet uploaded. Nothing here can change the database.";

bool IsBlank(std::string_view line) {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

}  // namespace

std::optional<std::string> McpServer::HandleLine(std::string_view line) {
  std::optional<std::string> reply = Dispatch(line);
  // Every string from SQLite is made valid UTF-8 where it is read (readonly_db.cc); this keeps
  // a line valid JSON should one ever slip through (replacing bytes >= 0x80 cannot touch the
  // JSON syntax, which is ASCII).
  if (reply && !IsValidUtf8(*reply)) {
    spdlog::warn("a reply held invalid UTF-8; sending it with U+FFFD replacements");
    return ValidUtf8(*reply);
  }
  return reply;
}

std::optional<std::string> McpServer::Dispatch(std::string_view line) {
  if (IsBlank(line)) return std::nullopt;
  rpc::Parsed parsed = parser_.Parse(line);
  if (parsed.error_reply) return std::move(parsed.error_reply);
  if (parsed.ignore) return std::nullopt;
  const rpc::Request& req = *parsed.request;
  // Notifications (notifications/initialized, notifications/cancelled, ...) need no answer;
  // requests are served in order, so there is nothing in flight to cancel.
  if (!req.id) return std::nullopt;
  const std::string& id = *req.id;
  if (req.method == "initialize") return rpc::Response(id, Initialize(req));
  if (req.method == "ping") return rpc::Response(id, "{}");
  if (req.method == "tools/list") return rpc::Response(id, tools_->ListJson());
  if (req.method == "tools/call") return CallTool(req);
  return rpc::Error(id, rpc::kMethodNotFound,
                    fmt::format("method not found: \"{}\" (this server offers initialize, ping, "
                                "tools/list, tools/call)",
                                req.method));
}

std::string McpServer::TooLongReply(size_t max_bytes) {
  return rpc::Error("null", rpc::kInvalidRequest,
                    fmt::format("invalid request: the line is longer than {} bytes", max_bytes));
}

std::string McpServer::Initialize(const rpc::Request& req) {
  std::string_view asked;
  std::string_view version = kProtocolVersions[0];
  if (!req.params["protocolVersion"].get(asked) &&
      std::find(std::begin(kProtocolVersions), std::end(kProtocolVersions), asked) !=
          std::end(kProtocolVersions)) {
    version = asked;
  }
  std::string_view client = "unknown";
  if (req.params.at_pointer("/clientInfo/name").get(client)) client = "unknown";
  spdlog::info("initialize from {}: asked protocol {}, answering {}", client,
               asked.empty() ? "(none)" : asked, version);
  JsonWriter w;
  w.BeginObject();
  w.Key("protocolVersion");
  w.String(version);
  w.Key("capabilities");
  w.BeginObject();
  w.Key("tools");
  w.BeginObject();
  w.EndObject();
  w.EndObject();
  w.Key("serverInfo");
  w.BeginObject();
  w.Key("name");
  w.String(kServerName);
  w.Key("version");
  w.String(kServerVersion);
  w.EndObject();
  w.Key("instructions");
  w.String(kInstructions);
  w.EndObject();
  return w.Take();
}

std::string McpServer::CallTool(const rpc::Request& req) {
  const std::string& id = *req.id;
  std::string_view name;
  simdjson::dom::element name_elem;
  if (req.params["name"].get(name_elem)) {
    return rpc::Error(id, rpc::kInvalidParams, "invalid params: tools/call needs \"name\"");
  }
  if (name_elem.get(name)) {
    return rpc::Error(id, rpc::kInvalidParams,
                      "invalid params: tools/call \"name\" must be a string");
  }
  simdjson::dom::object args;
  simdjson::dom::element args_elem;
  if (req.params["arguments"].get(args_elem) || args_elem.is_null()) {
    args = parser_.empty_object();  // no arguments: same as {}
  } else if (args_elem.get_object().get(args)) {
    return rpc::Error(id, rpc::kInvalidParams,
                      "invalid params: tools/call \"arguments\" must be an object");
  }
  auto start = std::chrono::steady_clock::now();
  ToolCall call = tools_->Call(name, args);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  if (!call.invalid_params.ok()) {
    spdlog::info("tools/call {}: {}", name, call.invalid_params.message());
    return rpc::Error(id, rpc::kInvalidParams, call.invalid_params.message());
  }
  spdlog::info("tools/call {}: {} in {} ms", name, call.is_error ? "tool error" : "ok", ms);
  return rpc::Response(id, call.result_json);
}

}  // namespace cistern::mcp
