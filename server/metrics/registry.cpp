#include "server/metrics/registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>

namespace sluice::server::metrics {
namespace {

bool ValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool ValidLabelName(std::string_view name) {
  return ValidMetricName(name) && name.find(':') == std::string_view::npos &&
         !name.starts_with("__") && name != "le";
}

void CheckNames(const std::string& name, const std::vector<std::string>& label_names) {
  if (!ValidMetricName(name)) throw std::invalid_argument("invalid metric name '" + name + "'");
  std::set<std::string_view> seen;
  for (const std::string& label : label_names) {
    if (!ValidLabelName(label) || !seen.insert(label).second) {
      throw std::invalid_argument("invalid or repeated label name '" + label + "' of " + name);
    }
  }
}

// A family computed at render time.
class ComputedFamily final : public Family {
 public:
  ComputedFamily(ComputedType type, std::string name, std::string help,
                 std::vector<std::string> label_names, std::function<std::vector<Sample>()> collect)
      : Family(std::move(name), std::move(help),
               type == ComputedType::kCounter ? "counter" : "gauge", std::move(label_names)),
        collect_(std::move(collect)) {}

 private:
  void RenderSeries(std::string& out) const override {
    std::vector<Sample> samples = collect_();
    std::sort(samples.begin(), samples.end(),
              [](const Sample& a, const Sample& b) { return a.label_values < b.label_values; });
    for (const Sample& sample : samples) {
      if (sample.label_values.size() != label_names().size()) {
        throw std::invalid_argument("a sample of " + name() + " has the wrong label count");
      }
      AppendLine(out, "", sample.label_values, sample.value);
    }
  }

  std::function<std::vector<Sample>()> collect_;
};

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  // Whole numbers within the exactly representable range print as integers (no "1e+06").
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), static_cast<int64_t>(value));
    return std::string(buffer, end);
  }
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end);
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds.begin(), bounds.end()), counts_(bounds.size() + 1, 0) {}

void Histogram::Observe(double value) {
  // The first bucket whose upper bound holds the value (le: less than or equal).
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  ++counts_[static_cast<size_t>(it - bounds_.begin())];
  ++count_;
  sum_ += value;
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> cumulative(counts_.size());
  uint64_t running = 0;
  for (size_t i = 0; i < counts_.size(); ++i) cumulative[i] = running += counts_[i];
  return cumulative;
}

Family::Family(std::string name, std::string help, std::string_view type,
               std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {
  CheckNames(name_, label_names_);
}

void Family::Render(std::string& out) const {
  std::string series;
  RenderSeries(series);
  if (series.empty()) return;
  out += "# HELP " + name_ + " " + EscapeHelp(help_) + "\n";
  out += "# TYPE " + name_ + " " + type_ + "\n";
  out += series;
}

std::vector<std::string> Family::Key(std::initializer_list<std::string_view> values) const {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument(name_ + " takes " + std::to_string(label_names_.size()) +
                                " label values, not " + std::to_string(values.size()));
  }
  return std::vector<std::string>(values.begin(), values.end());
}

void Family::AppendLine(std::string& out, std::string_view suffix,
                        const std::vector<std::string>& values, double value,
                        std::string_view extra_name, std::string_view extra_value) const {
  out += name_;
  out += suffix;
  if (!values.empty() || !extra_name.empty()) {
    out += '{';
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out += ',';
      out += label_names_[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
    }
    if (!extra_name.empty()) {
      if (!values.empty()) out += ',';
      out += std::string(extra_name) + "=\"" + std::string(extra_value) + "\"";
    }
    out += '}';
  }
  out += ' ';
  out += FormatValue(value);
  out += '\n';
}

CounterFamily::CounterFamily(std::string name, std::string help,
                             std::vector<std::string> label_names)
    : SeriesFamily(std::move(name), std::move(help), "counter", std::move(label_names)) {}

void CounterFamily::RenderSeries(std::string& out) const {
  for (const auto& [values, counter] : series_) {
    AppendLine(out, "", values, static_cast<double>(counter->value()));
  }
}

GaugeFamily::GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names)
    : SeriesFamily(std::move(name), std::move(help), "gauge", std::move(label_names)) {}

void GaugeFamily::RenderSeries(std::string& out) const {
  for (const auto& [values, gauge] : series_) AppendLine(out, "", values, gauge->value());
}

HistogramFamily::HistogramFamily(std::string name, std::string help, std::vector<double> bounds,
                                 std::vector<std::string> label_names)
    : SeriesFamily(std::move(name), std::move(help), "histogram", std::move(label_names)),
      bounds_(std::move(bounds)) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      throw std::invalid_argument("the buckets of " + this->name() +
                                  " must be finite and ascending");
    }
  }
}

void HistogramFamily::RenderSeries(std::string& out) const {
  for (const auto& [values, histogram] : series_) {
    const std::vector<uint64_t> cumulative = histogram->CumulativeCounts();
    for (size_t i = 0; i < bounds_.size(); ++i) {
      AppendLine(out, "_bucket", values, static_cast<double>(cumulative[i]), "le",
                 FormatValue(bounds_[i]));
    }
    AppendLine(out, "_bucket", values, static_cast<double>(histogram->count()), "le", "+Inf");
    AppendLine(out, "_sum", values, histogram->sum());
    AppendLine(out, "_count", values, static_cast<double>(histogram->count()));
  }
}

template <class F>
F& Registry::Add(std::unique_ptr<F> family) {
  for (const auto& existing : families_) {
    if (existing->name() == family->name()) {
      throw std::invalid_argument("metric " + family->name() + " is already registered");
    }
  }
  F& added = *family;
  families_.push_back(std::move(family));
  return added;
}

CounterFamily& Registry::AddCounter(std::string name, std::string help,
                                    std::vector<std::string> label_names) {
  return Add(
      std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(label_names)));
}

GaugeFamily& Registry::AddGauge(std::string name, std::string help,
                                std::vector<std::string> label_names) {
  return Add(
      std::make_unique<GaugeFamily>(std::move(name), std::move(help), std::move(label_names)));
}

HistogramFamily& Registry::AddHistogram(std::string name, std::string help,
                                        std::vector<double> bounds,
                                        std::vector<std::string> label_names) {
  return Add(std::make_unique<HistogramFamily>(std::move(name), std::move(help), std::move(bounds),
                                               std::move(label_names)));
}

void Registry::AddComputed(ComputedType type, std::string name, std::string help,
                           std::vector<std::string> label_names,
                           std::function<std::vector<Sample>()> collect) {
  Add(std::make_unique<ComputedFamily>(type, std::move(name), std::move(help),
                                       std::move(label_names), std::move(collect)));
}

std::string Registry::Render() const {
  std::string out;
  for (const auto& family : families_) family->Render(out);
  return out;
}

}  // namespace sluice::server::metrics
