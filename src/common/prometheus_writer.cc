#include "common/prometheus_writer.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace cistern {
namespace {

void AppendEscaped(std::string* out, std::string_view value, bool quote_too) {
  for (char c : value) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c == '"' && quote_too) {
      *out += "\\\"";
    } else {
      *out += c;
    }
  }
}

void AppendValue(std::string* out, double v) {
  if (std::isnan(v)) {
    *out += "NaN";
  } else if (std::isinf(v)) {
    *out += v > 0 ? "+Inf" : "-Inf";
  } else {
    *out += fmt::format("{}", v);  // shortest round-trip form
  }
}

}  // namespace

void PrometheusWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  AppendEscaped(&out_, help, /*quote_too=*/false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusWriter::Name(std::string_view name, Labels labels, std::string_view extra_label,
                            std::string_view extra_value) {
  out_ += name;
  if (labels.size() == 0 && extra_label.empty()) return;
  out_ += '{';
  bool first = true;
  auto label = [&](std::string_view k, std::string_view v) {
    if (!first) out_ += ',';
    first = false;
    out_ += k;
    out_ += "=\"";
    AppendEscaped(&out_, v, /*quote_too=*/true);
    out_ += '"';
  };
  for (const auto& [k, v] : labels) label(k, v);
  if (!extra_label.empty()) label(extra_label, extra_value);
  out_ += '}';
}

void PrometheusWriter::Sample(std::string_view name, double value, Labels labels) {
  Name(name, labels);
  out_ += ' ';
  AppendValue(&out_, value);
  out_ += '\n';
}

void PrometheusWriter::Sample(std::string_view name, int64_t value, Labels labels) {
  Name(name, labels);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void PrometheusWriter::Counter(std::string_view name, std::string_view help, int64_t value) {
  Family(name, "counter", help);
  Sample(name, value);
}

void PrometheusWriter::Gauge(std::string_view name, std::string_view help, double value) {
  Family(name, "gauge", help);
  Sample(name, value);
}

void PrometheusWriter::Histogram(std::string_view name, std::string_view help,
                                 const LatencyHistogram::Snapshot& s) {
  Family(name, "histogram", help);
  HistogramSamples(name, s);
}

void PrometheusWriter::HistogramSamples(std::string_view name, const LatencyHistogram::Snapshot& s,
                                        Labels labels) {
  const auto& bounds = LatencyHistogram::UpperBoundsUs();
  // The snapshot's counters are read one by one while others record: derive _count from the
  // buckets so that the +Inf bucket and _count always agree.
  uint64_t cumulative = 0;
  const std::string bucket = std::string(name) + "_bucket";
  for (int i = 0; i < LatencyHistogram::kBuckets; ++i) {
    cumulative += s.counts[i];
    const bool last = bounds[i] == std::numeric_limits<uint64_t>::max();
    std::string le = last ? "+Inf" : fmt::format("{}", static_cast<double>(bounds[i]) / 1e6);
    Name(bucket, labels, "le", le);
    out_ += ' ';
    out_ += std::to_string(cumulative);
    out_ += '\n';
  }
  Name(std::string(name) + "_sum", labels);
  out_ += ' ';
  AppendValue(&out_, static_cast<double>(s.sum_us) / 1e6);
  out_ += '\n';
  Name(std::string(name) + "_count", labels);
  out_ += ' ';
  out_ += std::to_string(cumulative);
  out_ += '\n';
}

}  // namespace cistern
