// The JSON-RPC and MCP method layer (McpServer::HandleLine) over a real database: error codes
// for bad input, notifications, version negotiation, and each tool's answer.
#include "mcp/server.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "mcp_test_db.h"
#include "support/sqlite_peek.h"

namespace cistern::mcp {
namespace {

constexpr int64_t kNow = 10'000;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::MakeTestDb(dir_.File("events.db"));
    auto db = ReadOnlyDb::Open(dir_.File("events.db"));
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(*db);
    tools_ = std::make_unique<Tools>(db_.get(), ToolLimits{3, std::chrono::seconds(5)},
                                     [] { return kNow; });
    server_ = std::make_unique<McpServer>(tools_.get());
  }

  // Sends one line; returns the reply parsed (the element lives until the next Send).
  simdjson::dom::element Send(const std::string& line) {
    auto reply = server_->HandleLine(line);
    EXPECT_TRUE(reply.has_value()) << "no reply to " << line;
    last_ = reply.value_or("{}");
    simdjson::dom::element doc;
    EXPECT_FALSE(parser_.parse(last_).get(doc)) << "reply is not JSON: " << last_;
    return doc;
  }
  int64_t ErrorCode(const std::string& line) {
    int64_t code = 0;
    EXPECT_FALSE(Send(line)["error"]["code"].get(code)) << last_;
    return code;
  }
  simdjson::dom::element Call(const std::string& tool, const std::string& args_json) {
    return Send(R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":")" + tool +
                R"(","arguments":)" + args_json + "}}");
  }
  // Calls `tool` and checks isError == expect_error; returns content[0].text.
  std::string CallText(const std::string& tool, const std::string& args_json, bool expect_error) {
    result_ = Call(tool, args_json)["result"];
    bool is_error = !expect_error;
    EXPECT_FALSE(result_["isError"].get(is_error));
    EXPECT_EQ(is_error, expect_error) << last_;
    std::string_view text;
    EXPECT_FALSE(result_["content"].at(0)["text"].get(text)) << last_;
    return std::string(text);
  }
  // The structuredContent of a successful call (and checks text == structuredContent).
  simdjson::dom::element Structured(const std::string& tool, const std::string& args_json) {
    std::string text = CallText(tool, args_json, false);
    EXPECT_EQ(text, simdjson::minify(result_["structuredContent"]));
    return result_["structuredContent"];
  }
  std::string ToolErrorText(const std::string& tool, const std::string& args_json) {
    return CallText(tool, args_json, true);
  }

  cistern::testing::TempDir dir_;
  std::unique_ptr<ReadOnlyDb> db_;
  std::unique_ptr<Tools> tools_;
  std::unique_ptr<McpServer> server_;
  simdjson::dom::parser parser_;
  std::string last_;
  simdjson::dom::element result_;  // the last CallText's "result"
};

TEST_F(ServerTest, JsonRpcErrorCodes) {
  EXPECT_EQ(ErrorCode("{not json"), rpc::kParseError);
  EXPECT_EQ(simdjson::minify(Send("{not json")["id"]), "null");
  EXPECT_EQ(ErrorCode("[1,2]"), rpc::kInvalidRequest);
  EXPECT_EQ(ErrorCode("42"), rpc::kInvalidRequest);
  EXPECT_EQ(ErrorCode(R"({"jsonrpc":"1.0","id":1,"method":"ping"})"), rpc::kInvalidRequest);
  EXPECT_EQ(simdjson::minify(Send(R"({"jsonrpc":"1.0","id":1,"method":"ping"})")["id"]), "1");
  EXPECT_EQ(ErrorCode(R"({"id":1,"method":"ping"})"), rpc::kInvalidRequest);
  EXPECT_EQ(ErrorCode(R"({"jsonrpc":"2.0","id":1,"method":7})"), rpc::kInvalidRequest);
  EXPECT_EQ(ErrorCode(R"({"jsonrpc":"2.0","id":1})"), rpc::kInvalidRequest);
  EXPECT_EQ(ErrorCode(R"({"jsonrpc":"2.0","id":{},"method":"ping"})"), rpc::kInvalidRequest);
  EXPECT_EQ(ErrorCode(R"({"jsonrpc":"2.0","id":1,"method":"nope"})"), rpc::kMethodNotFound);
  EXPECT_EQ(ErrorCode(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[1]})"),
            rpc::kInvalidParams);
  EXPECT_EQ(ErrorCode(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}})"),
            rpc::kInvalidParams);
  EXPECT_EQ(ErrorCode(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}})"),
            rpc::kInvalidParams);
  EXPECT_EQ(ErrorCode(R"({"jsonrpc":"2.0","id":1,"method":"tools/call",)"
                      R"("params":{"name":"query","arguments":[]}})"),
            rpc::kInvalidParams);
}

TEST_F(ServerTest, InvalidToolArgumentsAreInvalidParams) {
  auto code = [&](const std::string& tool, const std::string& args) {
    int64_t c = 0;
    EXPECT_FALSE(Call(tool, args)["error"]["code"].get(c)) << last_;
    return c;
  };
  EXPECT_EQ(code("no_such_tool", "{}"), rpc::kInvalidParams);
  EXPECT_NE(last_.find("unknown tool"), std::string::npos);
  EXPECT_EQ(code("query", "{}"), rpc::kInvalidParams);
  EXPECT_NE(last_.find("needs the string argument \\\"sql\\\""), std::string::npos) << last_;
  EXPECT_EQ(code("query", R"({"sql":1})"), rpc::kInvalidParams);
  EXPECT_EQ(code("query", R"({"sql":"SELECT 1","limit":"5"})"), rpc::kInvalidParams);
  EXPECT_EQ(code("query", R"({"sql":"SELECT 1","limit":0})"), rpc::kInvalidParams);
  EXPECT_EQ(code("query", R"({"sql":"SELECT 1","limt":5})"), rpc::kInvalidParams);
  EXPECT_EQ(code("describe_table", "{}"), rpc::kInvalidParams);
  EXPECT_EQ(code("backlog_summary", R"({"devices_limit":0})"), rpc::kInvalidParams);
  EXPECT_EQ(code("list_tables", R"({"x":1})"), rpc::kInvalidParams);
}

TEST_F(ServerTest, NotificationsAndClientResponsesGetNoAnswer) {
  EXPECT_FALSE(server_->HandleLine(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  EXPECT_FALSE(server_->HandleLine(R"({"jsonrpc":"2.0","method":"unknown/notification"})"));
  EXPECT_FALSE(server_->HandleLine(R"({"jsonrpc":"2.0","id":3,"result":{}})"));
  EXPECT_FALSE(server_->HandleLine("   "));
  EXPECT_EQ(Send(R"({"jsonrpc":"2.0","id":"p","method":"ping"})")["id"].get_string().value(), "p");
  EXPECT_EQ(simdjson::minify(Send(R"({"jsonrpc":"2.0","id":1,"method":"ping"})")["result"]), "{}");
}

TEST_F(ServerTest, InitializeNegotiatesTheProtocolVersion) {
  auto version = [&](const std::string& asked) {
    auto r = Send(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":")" +
                  asked + R"(","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
    EXPECT_EQ(simdjson::minify(r["result"]["capabilities"]), R"({"tools":{}})");
    EXPECT_EQ(r["result"]["serverInfo"]["name"].get_string().value(), "cistern-mcp");
    // The project's version, as --version says (it was a stale "0.1.0").
    EXPECT_EQ(r["result"]["serverInfo"]["version"].get_string().value(), CISTERN_VERSION);
    return std::string(r["result"]["protocolVersion"].get_string().value());
  };
  EXPECT_EQ(version("2024-11-05"), "2024-11-05");
  EXPECT_EQ(version("2025-03-26"), "2025-03-26");
  EXPECT_EQ(version("2025-06-18"), "2025-06-18");
  EXPECT_EQ(version("2099-01-01"), "2025-06-18");
}

TEST_F(ServerTest, ToolsListNamesFourToolsWithSchemas) {
  auto tools = Send(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})")["result"]["tools"];
  std::vector<std::string> names;
  for (auto t : tools.get_array()) {
    names.emplace_back(t["name"].get_string().value());
    EXPECT_EQ(t["inputSchema"]["type"].get_string().value(), "object");
    EXPECT_GT(t["description"].get_string().value().size(), 40u);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"list_tables", "describe_table", "query",
                                             "backlog_summary"}));
  EXPECT_NE(last_.find(R"("maximum":3)"), std::string::npos) << "--max-rows shown";
}

TEST_F(ServerTest, ListAndDescribeTables) {
  auto tables = Structured("list_tables", "{}")["tables"];
  std::vector<std::string> names;
  for (auto t : tables.get_array()) names.emplace_back(t["name"].get_string().value());
  EXPECT_EQ(names, (std::vector<std::string>{"dead_letters", "devices", "event_log", "events",
                                             "meta", "mqtt_qos2", "mqtt_sessions", "pending_events",
                                             "upload_runs"}));

  auto log = Structured("describe_table", R"({"table":"event_log"})");
  EXPECT_EQ(log["columns"].get_array().size(), 5u);
  EXPECT_EQ(log["columns"].at(1)["name"].get_string().value(), "device_id");
  EXPECT_TRUE(log["columns"].at(1)["notnull"].get_bool().value());
  EXPECT_EQ(log["columns"].at(0)["pk"].get_int64().value(), 1);
  auto events = Structured("describe_table", R"({"table":"events"})");
  EXPECT_EQ(events["columns"].get_array().size(), 6u);
  EXPECT_EQ(events["columns"].at(5)["name"].get_string().value(), "uploaded_at");
  auto runs = Structured("describe_table", R"({"table":"upload_runs"})");
  bool shipped_index = false;
  for (auto index : runs["indexes"].get_array()) {
    if (index["name"].get_string().value() != "upload_runs_shipped") continue;
    shipped_index = true;
    EXPECT_TRUE(index["partial"].get_bool().value());
    EXPECT_EQ(simdjson::minify(index["columns"]), R"(["last_id"])");
  }
  EXPECT_TRUE(shipped_index);

  EXPECT_NE(ToolErrorText("describe_table", R"({"table":"nope"})").find("no table or view"),
            std::string::npos);
}

TEST_F(ServerTest, QueryReturnsColumnsRowsAndTruncation) {
  auto r = Structured("query", R"({"sql":"SELECT id, device_id FROM events ORDER BY id"})");
  EXPECT_EQ(simdjson::minify(r["columns"]), R"(["id","device_id"])");
  EXPECT_EQ(simdjson::minify(r["rows"]), R"([[1,"c"],[2,"a"],[3,"a"]])");  // --max-rows 3
  EXPECT_TRUE(r["truncated"].get_bool().value());
  r = Structured("query", R"({"sql":"SELECT id FROM events ORDER BY id","limit":2})");
  EXPECT_EQ(r["row_count"].get_int64().value(), 2);
  EXPECT_TRUE(r["truncated"].get_bool().value());
  r = Structured("query", R"({"sql":"SELECT id FROM events WHERE id > 3 ORDER BY id"})");
  EXPECT_FALSE(r["truncated"].get_bool().value());
  EXPECT_EQ(r["row_count"].get_int64().value(), 2);

  EXPECT_NE(ToolErrorText("query", R"({"sql":"DELETE FROM event_log"})").find("refused"),
            std::string::npos);
  EXPECT_NE(ToolErrorText("query", R"({"sql":"SELEC"})").find("syntax error"), std::string::npos);
  EXPECT_EQ(Structured("query", R"({"sql":"SELECT count(*) AS n FROM events"})")["rows"]
                .at(0)
                .at(0)
                .get_int64()
                .value(),
            5);
}

// Every reply line is strict JSON, so valid UTF-8, even when SQLite hands back bytes that are
// not: a TEXT value, an identifier of a hostile schema, an error message echoing them. Invalid
// sequences become U+FFFD (docs/mcp.md). Send() parses with simdjson, which validates UTF-8.
TEST_F(ServerTest, InvalidUtf8BecomesReplacementCharacters) {
  auto r = Structured("query", R"j({"sql":"SELECT CAST(x'ff22c0' AS TEXT) AS v, 'é' AS e"})j");
  EXPECT_EQ(simdjson::minify(r["rows"]), "[[\"\xEF\xBF\xBD\\\"\xEF\xBF\xBD\",\"\xC3\xA9\"]]");
  // Truncated, overlong, surrogate and out-of-range sequences.
  r = Structured("query", R"j({"sql":"SELECT CAST(x'41e282' AS TEXT), CAST(x'c0af' AS TEXT), )j"
                          R"j(CAST(x'eda080' AS TEXT), CAST(x'f4908080' AS TEXT)"})j");
  EXPECT_EQ(
      simdjson::minify(r["rows"]),
      "[[\"A\xEF\xBF\xBD\",\"\xEF\xBF\xBD\xEF\xBF\xBD\",\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\","
      "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"]]");
  // An error message that echoes a value.
  std::string err =
      ToolErrorText("query", R"j({"sql":"SELECT json_extract('{}', CAST(x'24ff' AS TEXT))"})j");
  EXPECT_NE(err.find("\xEF\xBF\xBD"), std::string::npos) << err;
}

// A hostile file: identifiers and values that are not UTF-8 reach the client as U+FFFD.
TEST_F(ServerTest, HostileIdentifiersInTheSchemaAreReplacedToo) {
  ASSERT_TRUE(cistern::testing::ExecSql(dir_.File("events.db"),
                                        "CREATE TABLE \"t\xff\"(\"c\xc0\" TEXT); "
                                        "INSERT INTO \"t\xff\" VALUES ('v\xfe'); "
                                        "CREATE VIEW v AS SELECT * FROM \"t\xff\";"));
  Structured("list_tables", "{}");
  EXPECT_NE(last_.find("CREATE TABLE \\\"t\xEF\xBF\xBD\\\"(\\\"c\xEF\xBF\xBD\\\" TEXT)"),
            std::string::npos)
      << last_;
  auto r = Structured("query", R"j({"sql":"SELECT * FROM v"})j");
  EXPECT_EQ(simdjson::minify(r["columns"]), "[\"c\xEF\xBF\xBD\"]");
  EXPECT_EQ(simdjson::minify(r["rows"]), "[[\"v\xEF\xBF\xBD\"]]");
  auto view = Structured("describe_table", R"j({"table":"v"})j");
  EXPECT_EQ(view["columns"].at(0)["name"].get_string().value(), "c\xEF\xBF\xBD");
}

// The reply is bounded: values that do not fit are refused by name, and the server answers
// the next call.
TEST_F(ServerTest, OversizedValuesGiveAToolErrorAndTheServerGoesOn) {
  std::string err = ToolErrorText("query", R"j({"sql":"SELECT zeroblob(1e9)"})j");
  EXPECT_NE(err.find("string or blob too big"), std::string::npos) << err;
  err = ToolErrorText("query", R"j({"sql":"SELECT CAST(zeroblob(2000000) AS TEXT) AS b"})j");
  EXPECT_NE(err.find("column \"b\""), std::string::npos) << err;
  auto r = Structured("query", R"j({"sql":"SELECT 7"})j");
  EXPECT_EQ(simdjson::minify(r["rows"]), "[[7]]");
}

TEST_F(ServerTest, BacklogSummaryFigures) {
  auto s = Structured("backlog_summary", "{}");
  EXPECT_EQ(s["backlog"].get_int64().value(), 4);
  EXPECT_EQ(s["devices_with_backlog"].get_int64().value(), 2);
  EXPECT_EQ(s["events_total"].get_int64().value(), 5);
  EXPECT_EQ(s["upload_cursor"].get_int64().value(), 1);
  EXPECT_EQ(s["oldest_pending"]["id"].get_int64().value(), 2);
  EXPECT_EQ(s["oldest_pending"]["age_ms"].get_int64().value(), kNow - 1000);
  EXPECT_EQ(s["newest_event"]["id"].get_int64().value(), 5);
  EXPECT_EQ(simdjson::minify(s["pending_by_device"]),
            R"([{"device_id":"a","pending":3,"last_seen_at":3000},)"
            R"({"device_id":"b","pending":1,"last_seen_at":4000}])");
  EXPECT_EQ(s["last_upload_runs"].get_array().size(), 2u);
  EXPECT_EQ(s["last_upload_runs"].at(0)["status"].get_string().value(), "error");
  EXPECT_EQ(s["last_upload_runs"].at(0)["error"].get_string().value(), "sink down");
  EXPECT_EQ(s["node_id"].get_string().value().size(), 16u);

  s = Structured("backlog_summary", R"({"devices_limit":1})");
  EXPECT_EQ(s["pending_by_device"].get_array().size(), 1u);
  EXPECT_TRUE(s["pending_by_device_truncated"].get_bool().value());
}

}  // namespace
}  // namespace cistern::mcp
