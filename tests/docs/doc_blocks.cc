#include "docs/doc_blocks.h"

#include <algorithm>
#include <sstream>

namespace cistern::testing::docs {
namespace {

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    lines.emplace_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

size_t Indent(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && line[n] == ' ') ++n;
  return n;
}

// The fence at the start of `line` (after its indentation): its character and length, or 0.
size_t FenceLength(std::string_view line, char* fence_char) {
  line.remove_prefix(Indent(line));
  if (line.empty() || (line[0] != '`' && line[0] != '~')) return 0;
  size_t n = 0;
  while (n < line.size() && line[n] == line[0]) ++n;
  if (n < 3) return 0;
  *fence_char = line[0];
  return n;
}

bool IsCloseFence(std::string_view line, char fence_char, size_t open_len) {
  char c = 0;
  size_t n = FenceLength(line, &c);
  if (n < open_len || c != fence_char) return false;
  std::string_view rest = line.substr(Indent(line) + n);
  return rest.find_first_not_of(" \t\r") == std::string_view::npos;
}

bool ValidFileName(std::string_view name) {
  if (name.empty() || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::string_view RStrip(std::string_view s) {
  size_t end = s.find_last_not_of(" \t\r");
  return end == std::string_view::npos ? std::string_view() : s.substr(0, end + 1);
}

// One expected line against one actual line: "..." matches any text within the line.
bool MatchLine(std::string_view pattern, std::string_view line) {
  static constexpr std::string_view kAny = "...";
  size_t star = pattern.find(kAny);
  if (star == std::string_view::npos) return pattern == line;
  std::string_view prefix = pattern.substr(0, star);
  if (line.substr(0, prefix.size()) != prefix) return false;
  line.remove_prefix(prefix.size());
  pattern.remove_prefix(star + kAny.size());
  // Each further literal part is found leftmost; the last one must end the line.
  for (;;) {
    star = pattern.find(kAny);
    if (star == std::string_view::npos) {
      return line.size() >= pattern.size() && line.substr(line.size() - pattern.size()) == pattern;
    }
    std::string_view part = pattern.substr(0, star);
    size_t at = line.find(part);
    if (at == std::string_view::npos) return false;
    line.remove_prefix(at + part.size());
    pattern.remove_prefix(star + kAny.size());
  }
}

bool MatchFrom(const std::vector<std::string>& expected, size_t e,
               const std::vector<std::string>& actual, size_t a) {
  if (e == expected.size()) return a == actual.size();
  if (expected[e] == "...") {
    for (size_t skip = a; skip <= actual.size(); ++skip) {
      if (MatchFrom(expected, e + 1, actual, skip)) return true;
    }
    return false;
  }
  return a < actual.size() && MatchLine(expected[e], actual[a]) &&
         MatchFrom(expected, e + 1, actual, a + 1);
}

}  // namespace

std::string_view OutputMarker(std::string_view language) {
  if (language == "sh" || language == "bash" || language == "shell") return "#>";
  if (language == "sql") return "-->";
  return "";
}

std::vector<DocBlock> ExtractRunnable(const std::string& file, std::string_view text,
                                      std::vector<std::string>* errors) {
  std::vector<DocBlock> blocks;
  std::vector<std::string> lines = SplitLines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    char fence_char = 0;
    size_t fence_len = FenceLength(lines[i], &fence_char);
    if (fence_len == 0) continue;
    size_t indent = Indent(lines[i]);
    std::vector<std::string> info = Words(std::string_view(lines[i]).substr(indent + fence_len));
    DocBlock block;
    block.file = file;
    block.line = static_cast<int>(i + 1);
    size_t close = i + 1;
    while (close < lines.size() && !IsCloseFence(lines[close], fence_char, fence_len)) ++close;
    for (size_t j = i + 1; j < close && j < lines.size(); ++j) {
      std::string_view l = lines[j];
      l.remove_prefix(std::min(Indent(l), indent));
      block.body.append(l).append("\n");
    }
    bool runnable = std::find(info.begin(), info.end(), "runnable") != info.end();
    std::string where = block.Where() + ": ";
    i = close;  // continue after the closing fence
    if (!runnable) continue;
    if (close >= lines.size()) {
      errors->push_back(where + "runnable block has no closing fence");
      continue;
    }
    block.language = info[0];
    bool ok = true;
    if (block.language == "runnable") {
      errors->push_back(where + "runnable block without a language");
      continue;
    }
    for (size_t w = 1; w < info.size(); ++w) {
      if (info[w] == "runnable") continue;
      if (info[w].rfind("file=", 0) == 0 && block.write_file.empty()) {
        block.write_file = info[w].substr(5);
        if (!ValidFileName(block.write_file)) {
          errors->push_back(where + "bad file name in '" + info[w] + "'");
          ok = false;
        }
        continue;
      }
      errors->push_back(where + "unknown word '" + info[w] + "' in a runnable fence");
      ok = false;
    }
    if (ok && block.write_file.empty() && OutputMarker(block.language).empty()) {
      errors->push_back(where + "cannot run language '" + block.language +
                        "' (sh, bash, shell, sql; or add file=NAME)");
      ok = false;
    }
    if (ok) blocks.push_back(std::move(block));
  }
  return blocks;
}

std::vector<DocStep> SplitSteps(std::string_view body, std::string_view marker, int first_line) {
  std::vector<DocStep> steps;
  DocStep current;
  bool in_expected = false;
  std::vector<std::string> lines = SplitLines(body);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    std::string_view trimmed = line.substr(Indent(line));
    bool is_output = trimmed.substr(0, marker.size()) == marker &&
                     (trimmed.size() == marker.size() || trimmed[marker.size()] == ' ');
    if (is_output) {
      if (!in_expected) current.expected_line = first_line + static_cast<int>(i);
      in_expected = true;
      current.checked = true;
      std::string_view value = trimmed.substr(std::min(trimmed.size(), marker.size() + 1));
      current.expected.emplace_back(RStrip(value));
      continue;
    }
    if (in_expected) {
      steps.push_back(std::move(current));
      current = DocStep();
      in_expected = false;
    }
    if (!current.code.empty()) current.code += '\n';
    current.code.append(line);
  }
  if (current.checked || current.code.find_first_not_of(" \t\n") != std::string::npos) {
    steps.push_back(std::move(current));
  }
  return steps;
}

std::vector<std::string> NormalizedLines(std::string_view text) {
  std::vector<std::string> lines;
  for (const std::string& l : SplitLines(text)) lines.emplace_back(RStrip(l));
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

bool MatchOutput(const std::vector<std::string>& expected, std::string_view actual) {
  std::vector<std::string> want;
  for (const std::string& e : expected) want.emplace_back(RStrip(e));
  while (!want.empty() && want.back().empty()) want.pop_back();
  return MatchFrom(want, 0, NormalizedLines(actual), 0);
}

}  // namespace cistern::testing::docs
