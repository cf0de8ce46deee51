#include "support/prometheus_parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

namespace cistern::testing {
namespace {

bool IsNameStart(char c, bool colon_ok) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
}
bool IsNameChar(char c, bool colon_ok) {
  return IsNameStart(c, colon_ok) || (c >= '0' && c <= '9');
}

// Reads a metric (colon_ok) or label name at text[*pos]; empty on failure.
std::string ReadName(const std::string& text, size_t* pos, bool colon_ok) {
  size_t start = *pos;
  if (start >= text.size() || !IsNameStart(text[start], colon_ok)) return "";
  size_t i = start + 1;
  while (i < text.size() && IsNameChar(text[i], colon_ok)) ++i;
  *pos = i;
  return text.substr(start, i - start);
}

bool ParseFloat(const std::string& s, double* out) {
  if (s == "+Inf" || s == "Inf") {
    *out = INFINITY;
    return true;
  }
  if (s == "-Inf") {
    *out = -INFINITY;
    return true;
  }
  if (s == "NaN") {
    *out = NAN;
    return true;
  }
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && !std::isnan(*out) && !std::isinf(*out);
}

std::string SeriesKey(const PromSample& s) {
  std::string key = s.name + "{";
  for (const auto& [k, v] : s.labels) key += k + "=" + v + ",";
  return key + "}";
}

Status CheckHistogram(const PromFamily& f) {
  // Group by the labels other than le.
  struct Series {
    std::vector<std::pair<double, double>> buckets;  // le, cumulative count
    bool has_sum = false, has_count = false;
    double count = 0;
  };
  std::map<std::string, Series> series;
  for (const PromSample& s : f.samples) {
    auto labels = s.labels;
    labels.erase("le");
    std::string key;
    for (const auto& [k, v] : labels) key += k + "=" + v + ",";
    Series& x = series[key];
    if (s.name == f.name + "_bucket") {
      auto le = s.labels.find("le");
      double bound = 0;
      if (le == s.labels.end() || !ParseFloat(le->second, &bound)) {
        return Status::InvalidArgument(f.name + ": bucket without a valid le label");
      }
      x.buckets.emplace_back(bound, s.value);
    } else if (s.name == f.name + "_sum") {
      x.has_sum = true;
    } else if (s.name == f.name + "_count") {
      x.has_count = true;
      x.count = s.value;
    } else {
      return Status::InvalidArgument(f.name + ": unexpected sample " + s.name);
    }
  }
  for (const auto& [key, x] : series) {
    if (x.buckets.empty() || !x.has_sum || !x.has_count) {
      return Status::InvalidArgument(f.name + "{" + key + "}: needs buckets, _sum and _count");
    }
    for (size_t i = 1; i < x.buckets.size(); ++i) {
      if (!(x.buckets[i].first > x.buckets[i - 1].first)) {
        return Status::InvalidArgument(f.name + ": le bounds not increasing");
      }
      if (x.buckets[i].second < x.buckets[i - 1].second) {
        return Status::InvalidArgument(f.name + ": bucket counts not cumulative");
      }
    }
    if (!std::isinf(x.buckets.back().first)) {
      return Status::InvalidArgument(f.name + ": last bucket is not le=\"+Inf\"");
    }
    if (x.buckets.back().second != x.count) {
      return Status::InvalidArgument(f.name + ": +Inf bucket differs from _count");
    }
  }
  return Status::Ok();
}

}  // namespace

double PromExposition::Value(const std::string& name,
                             const std::map<std::string, std::string>& labels) const {
  for (const PromFamily& f : families) {
    for (const PromSample& s : f.samples) {
      if (s.name == name && s.labels == labels) return s.value;
    }
  }
  ADD_FAILURE() << "no sample " << name << " with the given labels";
  return NAN;
}

bool PromExposition::Has(const std::string& family) const {
  for (const PromFamily& f : families) {
    if (f.name == family) return true;
  }
  return false;
}

Result<PromExposition> ParsePrometheus(const std::string& text) {
  PromExposition out;
  std::set<std::string> declared, series;
  std::string pending_help_name, pending_help;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  if (!text.empty() && text.back() != '\n') {
    return Status::InvalidArgument("exposition does not end with a newline");
  }
  while (std::getline(in, line)) {
    ++n;
    auto bad = [&](const std::string& what) {
      return Status::InvalidArgument("line " + std::to_string(n) + ": " + what + ": " + line);
    };
    if (line.empty()) return bad("empty line");
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      const bool help = line[2] == 'H';
      size_t pos = 7;
      std::string name = ReadName(line, &pos, true);
      if (name.empty() || pos >= line.size() || line[pos] != ' ') return bad("bad metric name");
      std::string rest = line.substr(pos + 1);
      if (help) {
        if (declared.count(name)) return bad("HELP for a family declared before");
        pending_help_name = name;
        pending_help = rest;
        continue;
      }
      if (rest != "counter" && rest != "gauge" && rest != "histogram" && rest != "summary" &&
          rest != "untyped") {
        return bad("unknown type");
      }
      if (pending_help_name != name) return bad("TYPE without a HELP just before it");
      if (!declared.insert(name).second) return bad("family declared twice");
      out.families.push_back(PromFamily{name, rest, pending_help, {}});
      pending_help_name.clear();
      continue;
    }
    if (line[0] == '#') return bad("unexpected comment");
    if (out.families.empty()) return bad("sample before any TYPE");
    PromFamily& f = out.families.back();
    PromSample s;
    size_t pos = 0;
    s.name = ReadName(line, &pos, true);
    if (s.name.empty()) return bad("bad metric name");
    if (pos < line.size() && line[pos] == '{') {
      ++pos;
      while (pos < line.size() && line[pos] != '}') {
        std::string label = ReadName(line, &pos, false);
        if (label.empty()) return bad("bad label name");
        if (pos + 1 >= line.size() || line[pos] != '=' || line[pos + 1] != '"') {
          return bad("expected =\" after a label name");
        }
        pos += 2;
        std::string value;
        for (;;) {
          if (pos >= line.size()) return bad("unterminated label value");
          char c = line[pos++];
          if (c == '"') break;
          if (c == '\\') {
            if (pos >= line.size()) return bad("dangling escape");
            char e = line[pos++];
            if (e == 'n') {
              value += '\n';
            } else if (e == '\\' || e == '"') {
              value += e;
            } else {
              return bad("bad escape in a label value");
            }
          } else {
            value += c;
          }
        }
        if (!s.labels.emplace(label, value).second) return bad("label repeated");
        if (pos < line.size() && line[pos] == ',') ++pos;
      }
      if (pos >= line.size()) return bad("unterminated label set");
      ++pos;  // '}'
    }
    if (pos >= line.size() || line[pos] != ' ') return bad("expected a space before the value");
    std::string rest = line.substr(pos + 1);
    std::string value = rest.substr(0, rest.find(' '));
    if (!ParseFloat(value, &s.value)) return bad("bad value");
    if (rest.find(' ') != std::string::npos) {
      std::string ts = rest.substr(rest.find(' ') + 1);
      if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string::npos) {
        return bad("bad timestamp");
      }
    }
    const bool hist = f.type == "histogram";
    const bool belongs = hist ? (s.name == f.name + "_bucket" || s.name == f.name + "_sum" ||
                                 s.name == f.name + "_count")
                              : s.name == f.name;
    if (!belongs) return bad("sample is not of family " + f.name);
    if (!hist && s.labels.count("le")) return bad("le label outside a histogram");
    if (f.type == "counter" && (!(s.value >= 0) || std::isinf(s.value))) {
      return bad("counter is negative or not finite");
    }
    if (!series.insert(SeriesKey(s)).second) return bad("duplicate series");
    f.samples.push_back(std::move(s));
  }
  for (const PromFamily& f : out.families) {
    if (f.samples.empty()) return Status::InvalidArgument(f.name + ": family without samples");
    if (f.type == "histogram") {
      if (Status st = CheckHistogram(f); !st.ok()) return st;
    }
  }
  return out;
}

}  // namespace cistern::testing
