// JSON-RPC 2.0 framing for cistern-mcp: one message per line (MCP's stdio transport).
//
// ParseMessage turns a line into a Request or a ready-to-send error; the Response/Error
// helpers build the reply lines. No I/O here, so every error path is testable without pipes.
// Thread-safety: a Parser is not thread-safe (one per reader); the free functions are pure.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

namespace cistern::mcp::rpc {

// The JSON-RPC 2.0 error codes cistern-mcp answers with.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;

// A parsed request or notification. `params` points into the Parser's document and stays
// valid only until the Parser parses the next line.
struct Request {
  std::optional<std::string> id;  // the id as JSON text ("7", "\"a\""); none = notification
  std::string method;
  simdjson::dom::object params;  // the params object, or an empty object when absent
};

// The outcome of parsing one line: exactly one of the three.
struct Parsed {
  std::optional<Request> request;
  std::optional<std::string> error_reply;  // a full error line to send back
  bool ignore = false;                     // a JSON-RPC response from the client: nothing to do
};

class Parser {
 public:
  Parser();
  // Parses one line. Errors come back as error_reply: -32700 (not JSON; id null), -32600
  // (not an object, a batch, jsonrpc != "2.0", method missing or not a string, id neither a
  // string nor a number; with the request's id when it had a usable one, else null),
  // -32602 (params present but not an object).
  Parsed Parse(std::string_view line);
  // An empty JSON object ({}), valid for the Parser's lifetime.
  simdjson::dom::object empty_object() const { return empty_params_; }

 private:
  simdjson::dom::parser parser_;
  simdjson::padded_string buffer_;
  // "{}" parsed once, handed out as the params of requests that have none.
  simdjson::dom::parser empty_parser_;
  simdjson::dom::object empty_params_;
};

// {"jsonrpc":"2.0","id":<id>,"result":<result_json>} — `result_json` must be valid JSON.
std::string Response(std::string_view id_json, std::string_view result_json);
// {"jsonrpc":"2.0","id":<id>,"error":{"code":<code>,"message":<message>}}
std::string Error(std::string_view id_json, int code, std::string_view message);

}  // namespace cistern::mcp::rpc
