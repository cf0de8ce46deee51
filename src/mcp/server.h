// McpServer: the MCP method layer of cistern-mcp. It turns one JSON-RPC line into at most
// one reply line and never touches stdin/stdout itself (main.cc does), so the whole protocol
// is testable with strings.
//
// Methods: initialize, ping, tools/list, tools/call; notifications (no id) are never
// answered. Errors: -32700 parse error, -32600 invalid request, -32601 unknown method,
// -32602 invalid params (see jsonrpc.h and tools.h).
// Thread-safety: not thread-safe; one owner thread reading requests in order.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mcp/jsonrpc.h"
#include "mcp/tools.h"

namespace cistern::mcp {

// The MCP protocol revisions this server speaks, newest first.
inline constexpr std::string_view kProtocolVersions[] = {"2025-06-18", "2025-03-26", "2024-11-05"};
inline constexpr std::string_view kServerName = "cistern-mcp";
// The project's version, as `cistern-mcp --version` prints it.
inline constexpr std::string_view kServerVersion = CISTERN_VERSION;

class McpServer {
 public:
  // `tools` must outlive the server.
  explicit McpServer(Tools* tools) : tools_(tools) {}

  // Handles one line (without its newline). Returns the reply line (without a newline, always
  // valid UTF-8), or nullopt when nothing is to be sent (a notification, a client's response,
  // a blank line).
  std::optional<std::string> HandleLine(std::string_view line);

  // The reply to a line longer than the reader accepts (-32600, id null).
  static std::string TooLongReply(size_t max_bytes);

 private:
  std::optional<std::string> Dispatch(std::string_view line);
  std::string Initialize(const rpc::Request& req);
  std::string CallTool(const rpc::Request& req);

  rpc::Parser parser_;
  Tools* const tools_;  // constant after construction; not owned
};

}  // namespace cistern::mcp
