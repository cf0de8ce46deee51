// A tiny append-only JSON writer for our own small responses (/stats, /healthz, errors).
// Request bodies are parsed by simdjson; this only *writes* documents whose shape we control.
// Not thread-safe; one writer per document.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cistern {

// Appends `s` as a JSON string literal (quotes included) to `out`, escaping ", \ and control
// characters. Valid UTF-8 is copied as it is; invalid sequences (a raw request target, a TEXT
// value from SQLite) are replaced by U+FFFD, so the output is always valid JSON.
void AppendJsonString(std::string* out, std::string_view s);

// Builds {"k":v,...} documents with correct commas. Usage:
//   JsonWriter w; w.BeginObject(); w.Key("a"); w.Int(1); w.EndObject(); w.str();
class JsonWriter {
 public:
  void BeginObject() {
    Sep();
    out_ += '{';
    first_ = true;
  }
  void EndObject() {
    out_ += '}';
    first_ = false;
  }
  void BeginArray() {
    Sep();
    out_ += '[';
    first_ = true;
  }
  void EndArray() {
    out_ += ']';
    first_ = false;
  }
  void Key(std::string_view k) {
    Sep();
    AppendJsonString(&out_, k);
    out_ += ':';
    first_ = true;
  }
  void Int(int64_t v);
  void Uint(uint64_t v);
  void Double(double v);
  void Bool(bool v) {
    Sep();
    out_ += v ? "true" : "false";
  }
  void Null() {
    Sep();
    out_ += "null";
  }
  void String(std::string_view s) {
    Sep();
    AppendJsonString(&out_, s);
  }

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Sep() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  std::string out_;
  bool first_ = true;
};

}  // namespace cistern
