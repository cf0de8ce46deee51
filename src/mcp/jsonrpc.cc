#include "mcp/jsonrpc.h"

#include <cassert>

#include "common/json_writer.h"

namespace cistern::mcp::rpc {
namespace {

constexpr std::string_view kNullId = "null";

// The JSON text of a usable id (string or number), or nullopt.
std::optional<std::string> IdText(simdjson::dom::element id) {
  switch (id.type()) {
    case simdjson::dom::element_type::STRING:
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
      return simdjson::minify(id);
    default:
      return std::nullopt;
  }
}

}  // namespace

Parser::Parser() {
  simdjson::padded_string empty("{}", 2);
  // Parsing a constant "{}" cannot fail; the document lives in empty_parser_.
  auto ec = empty_parser_.parse(empty).get_object().get(empty_params_);
  assert(!ec);
  (void)ec;
}

Parsed Parser::Parse(std::string_view line) {
  Parsed out;
  buffer_ = simdjson::padded_string(line);
  simdjson::dom::element doc;
  if (parser_.parse(buffer_).get(doc)) {
    out.error_reply = Error(kNullId, kParseError, "parse error: the line is not valid JSON");
    return out;
  }
  if (doc.is_array()) {
    out.error_reply = Error(kNullId, kInvalidRequest,
                            "invalid request: batches (JSON arrays) are not supported; send one "
                            "request per line");
    return out;
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) {
    out.error_reply =
        Error(kNullId, kInvalidRequest, "invalid request: a request must be a JSON object");
    return out;
  }
  std::optional<std::string> id;
  simdjson::dom::element id_elem;
  bool has_id = !obj["id"].get(id_elem);
  if (has_id) {
    id = IdText(id_elem);
    if (!id && !id_elem.is_null()) {
      out.error_reply =
          Error(kNullId, kInvalidRequest, "invalid request: id must be a string or a number");
      return out;
    }
  }
  std::string_view reply_id = id ? std::string_view(*id) : kNullId;
  std::string_view version;
  if (obj["jsonrpc"].get(version) || version != "2.0") {
    out.error_reply =
        Error(reply_id, kInvalidRequest, "invalid request: \"jsonrpc\" must be the string \"2.0\"");
    return out;
  }
  simdjson::dom::element method_elem;
  if (obj["method"].get(method_elem)) {
    // A response to a request we never send; MCP clients may answer server requests.
    if (!obj["result"].error() || !obj["error"].error()) {
      out.ignore = true;
      return out;
    }
    out.error_reply = Error(reply_id, kInvalidRequest, "invalid request: \"method\" is missing");
    return out;
  }
  std::string_view method;
  if (method_elem.get(method)) {
    out.error_reply =
        Error(reply_id, kInvalidRequest, "invalid request: \"method\" must be a string");
    return out;
  }
  Request req;
  req.method = std::string(method);
  if (has_id) req.id = id ? *id : std::string(kNullId);
  simdjson::dom::element params;
  if (obj["params"].get(params)) {
    req.params = empty_params_;  // absent params behave as {}
  } else if (params.get_object().get(req.params)) {
    out.error_reply =
        Error(reply_id, kInvalidParams, "invalid params: \"params\" must be an object");
    return out;
  }
  out.request = std::move(req);
  return out;
}

std::string Response(std::string_view id_json, std::string_view result_json) {
  std::string out;
  out.reserve(result_json.size() + id_json.size() + 40);
  out += "{\"jsonrpc\":\"2.0\",\"id\":";
  out += id_json;
  out += ",\"result\":";
  out += result_json;
  out += '}';
  return out;
}

std::string Error(std::string_view id_json, int code, std::string_view message) {
  JsonWriter err;
  err.BeginObject();
  err.Key("code");
  err.Int(code);
  err.Key("message");
  err.String(message);
  err.EndObject();
  std::string out = "{\"jsonrpc\":\"2.0\",\"id\":";
  out += id_json;
  out += ",\"error\":";
  out += err.str();
  out += '}';
  return out;
}

}  // namespace cistern::mcp::rpc
