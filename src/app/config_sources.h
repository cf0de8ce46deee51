// Config sources other than the command line (docs/configuration.md): every long flag may also
// come from a TOML file (`--config FILE`, or CISTERN_CONFIG) under the same name without the
// dashes (`max-backlog = 1000`), and from the environment as CISTERN_ + upper snake case
// (CISTERN_MAX_BACKLOG=1000). Precedence: flag > env > file > default.
//
// ApplyEnvAndFile runs after CLI11 parsed argv: each option the command line left unset takes
// its value from the environment, else from the file, through the option's own validators
// and conversion (so `mode = "fast"` fails like `--mode fast`). Unknown keys, unknown
// CISTERN_* variables, tables/arrays and TOML syntax errors are errors naming the file and
// line or the variable. Not thread-safe (reads environ); call from main's thread only.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <set>
#include <string>

#include "common/status.h"

namespace cistern {

struct ConfigOrigins {
  // Long flag name ("max-backlog") -> where its value came from: "CISTERN_MAX_BACKLOG" or
  // "/etc/cistern.toml:12"; flags given on the command line and defaults are absent.
  std::map<std::string, std::string> where;
  // "--max-backlog" for a command-line or default value, else "CISTERN_MAX_BACKLOG" or
  // "max-backlog in /etc/cistern.toml:12": for error messages.
  std::string Describe(const std::string& flag) const;
};

// `config_file` empty = no file. `skip` = long names that no file or env may set (e.g.
// "config", "print-config", "help").
Status ApplyEnvAndFile(CLI::App& app, const std::string& config_file,
                       const std::set<std::string>& skip, ConfigOrigins* origins);

// The effective configuration as TOML that --config accepts back, one `name = value` per
// option with its origin as a comment; options in `secret` print only whether they are set.
// `in_effect`: name -> a note on what is in effect when that differs from the setting (e.g.
// an index the database file has), appended to the comment.
std::string RenderConfig(const CLI::App& app, const std::set<std::string>& skip,
                         const std::set<std::string>& secret, const ConfigOrigins& origins,
                         const std::map<std::string, std::string>& in_effect = {});

}  // namespace cistern
