// Config: the daemon's flags (CLI11) -> one typed struct. DESIGN.md section 9 conventions:
// kebab-case long flags, durations as 500ms/1s/24h, sizes as 64KiB/1MiB or bytes.
// Pure apart from printing --help; safe to call from main only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/status.h"
#include "ingest/router.h"
#include "ingest/server.h"
#include "store/store.h"

namespace cistern {

struct Config {
  StoreOptions store;
  RouterOptions router;
  ServerOptions server;
  std::string ready_file;  // written with host:port once listening ("" = none)
  std::string log_level = "info";
};

struct ParsedArgs {
  enum class Action { kRun, kExit } action = Action::kRun;
  int exit_code = 0;  // for kExit: 0 after --help, 2 after a usage error (already printed)
  Config config;
};

// Parses argv. Usage errors print one line "cistern: <what is wrong>" to stderr and return
// kExit with code 2; --help prints the help and returns kExit with code 0.
ParsedArgs ParseArgs(int argc, char** argv);

// "127.0.0.1:8080", "[::1]:8080" -> host, port; ":8080" (empty host) = every interface.
Status ParseAddr(const std::string& text, std::string* host, uint16_t* port);

}  // namespace cistern
