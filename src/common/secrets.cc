#include "common/secrets.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace cistern {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

bool BearerMatches(std::string_view authorization, const std::vector<std::string>& tokens) {
  // RFC 9110 11.1: the scheme is case-insensitive ("bearer", "BEARER"); the token is not.
  constexpr std::string_view kBearer = "bearer ";
  if (authorization.size() <= kBearer.size()) return false;
  for (size_t i = 0; i < kBearer.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kBearer[i]) return false;
  }
  std::string_view presented = authorization.substr(kBearer.size());
  bool match = false;
  for (const auto& t : tokens) match |= ConstantTimeEquals(presented, t);
  return match;
}

Result<std::vector<std::string>> ReadTokenFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) {
    return Status::InvalidArgument("cannot read token file " + path + ": " + std::strerror(errno));
  }
  std::vector<std::string> tokens;
  for (std::string line; std::getline(f, line);) {
    auto begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos || line[begin] == '#') continue;
    auto end = line.find_last_not_of(" \t\r");
    tokens.push_back(line.substr(begin, end - begin + 1));
  }
  if (tokens.empty()) return Status::InvalidArgument("token file " + path + " holds no token");
  return tokens;
}

}  // namespace cistern
