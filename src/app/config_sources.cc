#include "app/config_sources.h"

#include <fmt/format.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace cistern {
namespace {

constexpr std::string_view kEnvPrefix = "CISTERN_";

// "max-backlog" -> "CISTERN_MAX_BACKLOG".
std::string EnvName(const std::string& flag) {
  std::string out(kEnvPrefix);
  for (char c : flag) out += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

// A TOML scalar as the text CLI11 would have seen on the command line.
Result<std::string> ScalarText(const toml::node& node) {
  if (auto s = node.value<std::string>()) return *s;
  if (node.is_boolean()) return std::string(*node.value<bool>() ? "true" : "false");
  if (node.is_integer()) return std::to_string(*node.value<int64_t>());
  if (node.is_floating_point()) return fmt::format("{}", *node.value<double>());
  return Status::InvalidArgument("expected a string, number or boolean");
}

CLI::Option* FindLong(CLI::App& app, const std::string& name) {
  for (CLI::Option* opt : app.get_options()) {
    if (opt->check_lname(name)) return opt;
  }
  return nullptr;
}

bool IsFlag(const CLI::Option* opt) { return opt->get_expected_min() == 0; }

std::string TomlString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace

std::string ConfigOrigins::Describe(const std::string& flag) const {
  std::string name = flag.rfind("--", 0) == 0 ? flag.substr(2) : flag;
  auto it = where.find(name);
  if (it == where.end()) return "--" + name;
  if (it->second.rfind(kEnvPrefix, 0) == 0) return it->second;
  return name + " in " + it->second;
}

Status ApplyEnvAndFile(CLI::App& app, const std::string& config_file,
                       const std::set<std::string>& skip, ConfigOrigins* origins) {
  struct Value {
    std::string text, where;
  };
  std::map<std::string, Value> from_env, from_file;

  // The environment: every CISTERN_* variable must name a flag.
  std::map<std::string, std::string> env_to_flag;
  for (CLI::Option* opt : app.get_options()) {
    for (const std::string& l : opt->get_lnames()) env_to_flag[EnvName(l)] = l;
  }
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (kv.substr(0, kEnvPrefix.size()) != kEnvPrefix) continue;
    std::string name(kv.substr(0, kv.find('=')));
    std::string value(kv.substr(kv.find('=') + 1));
    if (name == "CISTERN_CONFIG") continue;  // the file itself (read by the caller)
    auto it = env_to_flag.find(name);
    if (it == env_to_flag.end() || skip.count(it->second)) {
      return Status::InvalidArgument("unknown environment variable " + name +
                                     " (CISTERN_* variables must name a flag)");
    }
    // An empty value would silently mean "off" for a token or certificate file (issue 15.7:
    // CISTERN_AUTH_TOKEN_FILE= turned auth off): refuse it, for every setting alike.
    if (value.empty()) {
      return Status::InvalidArgument(name + " is set but empty (unset it to use the default)");
    }
    from_env[it->second] = Value{value, name};
  }

  if (!config_file.empty()) {
    if (access(config_file.c_str(), R_OK) != 0) {
      return Status::InvalidArgument(
          fmt::format("config {}: cannot read it ({})", config_file, std::strerror(errno)));
    }
    toml::table table;
    try {
      table = toml::parse_file(config_file);
    } catch (const toml::parse_error& e) {
      const auto& where = e.source().begin;
      return Status::InvalidArgument(fmt::format("config {}:{}:{}: {}", config_file, where.line,
                                                 where.column, e.description()));
    }
    for (const auto& [key, node] : table) {
      const std::string name(key.str());
      const std::string where = fmt::format("{}:{}", config_file, node.source().begin.line);
      CLI::Option* opt = FindLong(app, name);
      if (opt == nullptr || skip.count(name)) {
        return Status::InvalidArgument("config " + where + ": unknown key '" + name + "'");
      }
      auto text = ScalarText(node);
      if (!text.ok()) {
        return Status::InvalidArgument("config " + where + ": " + name + ": " +
                                       text.status().message());
      }
      if (text->empty()) {
        return Status::InvalidArgument("config " + where + ": " + name +
                                       " is empty (remove the line to use the default)");
      }
      from_file[name] = Value{*text, where};
    }
  }

  for (CLI::Option* opt : app.get_options()) {
    if (opt->get_lnames().empty() || opt->count() > 0) continue;  // the command line wins
    const std::string& name = opt->get_lnames().front();
    const Value* v = nullptr;
    if (auto it = from_env.find(name); it != from_env.end()) {
      v = &it->second;
    } else if (auto jt = from_file.find(name); jt != from_file.end()) {
      v = &jt->second;
    }
    if (v == nullptr) continue;
    origins->where[name] = v->where;
    try {
      opt->clear();
      opt->add_result(v->text);
      opt->run_callback();
    } catch (const CLI::Error& e) {
      return Status::InvalidArgument(origins->Describe(name) + ": " + e.what());
    }
  }
  return Status::Ok();
}

std::string RenderConfig(const CLI::App& app, const std::set<std::string>& skip,
                         const std::set<std::string>& secret, const ConfigOrigins& origins,
                         const std::map<std::string, std::string>& in_effect) {
  std::string out = "# cistern: effective configuration (flag > CISTERN_* env > file > default)\n";
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_lnames().empty()) continue;
    const std::string& name = opt->get_lnames().front();
    if (skip.count(name)) continue;
    std::string origin = "default";
    if (auto it = origins.where.find(name); it != origins.where.end()) {
      origin = it->second;
    } else if (opt->count() > 0) {
      origin = "command line";
    }
    if (auto it = in_effect.find(name); it != in_effect.end()) origin += "; " + it->second;
    const bool set = opt->count() > 0;
    if (secret.count(name)) {
      out += fmt::format("# {}: {} (secret, not shown)\n", name, set ? "set" : "not set");
      continue;
    }
    std::string text;
    if (set) {
      text = opt->as<std::string>();
    } else {
      text = opt->get_default_str();
    }
    if (IsFlag(opt)) {
      bool on = set && opt->as<bool>();
      out += fmt::format("{} = {}  # {}\n", name, on ? "true" : "false", origin);
      continue;
    }
    if (!set && text.empty()) {
      out += fmt::format("# {} = (not set)\n", name);
      continue;
    }
    const std::string type = opt->get_type_name();
    const bool number = type.rfind("INT", 0) == 0 || type.rfind("UINT", 0) == 0 ||
                        type.rfind("FLOAT", 0) == 0 || type.rfind("NUMBER", 0) == 0;
    out += fmt::format("{} = {}  # {}\n", name, number ? text : TomlString(text), origin);
  }
  return out;
}

}  // namespace cistern
