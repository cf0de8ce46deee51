// ServerTest: a fixture that starts the real cistern on a free port with a fresh database in
// a temp dir, and a keep-alive client for it. Tests call Start(extra flags) first.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "support/cistern_process.h"
#include "support/http_client.h"
#include "support/sqlite_peek.h"
#include "support/temp_dir.h"

namespace cistern::testing {

class ServerTest : public ::testing::Test {
 protected:
  // Unless the test picks a sink, the uploader is off (--sink none) so that the backlog
  // only grows: the core tests count it.
  void Start(std::vector<std::string> flags = {}) {
    if (std::find(flags.begin(), flags.end(), "--sink") == flags.end()) {
      flags.insert(flags.end(), {"--sink", "none"});
    }
    server_ = std::make_unique<CisternProcess>(dir_.path(), db(), std::move(flags));
    ASSERT_TRUE(server_->started()) << server_->Log();
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->port());
  }
  void TearDown() override {
    client_.reset();
    if (server_) {
      int code = server_->Stop();
      EXPECT_EQ(code, 0) << "cistern did not stop cleanly:\n" << server_->Log();
    }
  }
  std::string db() const { return dir_.File("events.db"); }
  int64_t Rows() { return CountEvents(db()); }

  // Reads an integer at a JSON pointer (e.g. "/store/backlog") of a JSON document.
  static int64_t JsonInt(const std::string& json, const char* pointer) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    int64_t v = -1;
    auto ec = parser.parse(padded).at_pointer(pointer).get(v);
    EXPECT_FALSE(ec) << pointer << " in " << json;
    return v;
  }
  static std::string JsonString(const std::string& json, const char* pointer) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    std::string_view v;
    auto ec = parser.parse(padded).at_pointer(pointer).get(v);
    EXPECT_FALSE(ec) << pointer << " in " << json;
    return std::string(v);
  }

  TempDir dir_;
  std::unique_ptr<CisternProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

}  // namespace cistern::testing
