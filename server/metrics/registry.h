#pragma once
// A small metrics registry rendered in the Prometheus text exposition format 0.0.4: counters
// and gauges (optionally labelled), histograms with fixed buckets, and families computed by a
// callback at render time. Families render in registration order, their series in label order.
//
// Threads: registering families, creating series (With), Histogram::Observe, the computed
// families' callbacks and Render() belong to one thread (the server's loop thread). Counter::Inc
// and Gauge::Set are relaxed atomics: a series obtained on the loop thread may be updated from
// any thread while it lives (the registry owns it; series are never removed).

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::server::metrics {

// One counter series: only ever goes up.
class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// One gauge series: set to the latest value.
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// One histogram series over fixed upper bounds (ascending; +Inf is implicit). Loop thread only.
class Histogram {
 public:
  explicit Histogram(std::span<const double> bounds);
  void Observe(double value);
  const std::vector<double>& bounds() const { return bounds_; }
  // Observations at or below each bound, cumulative, then the total (the +Inf bucket).
  std::vector<uint64_t> CumulativeCounts() const;
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; one more than bounds_ (+Inf)
  uint64_t count_ = 0;
  double sum_ = 0;
};

// A family: one metric name, its help, type and label names; its series by label values.
class Family {
 public:
  virtual ~Family() = default;
  const std::string& name() const { return name_; }
  // Appends the family (HELP, TYPE, every series) to `out`; nothing when it has no series.
  void Render(std::string& out) const;

 protected:
  Family(std::string name, std::string help, std::string_view type,
         std::vector<std::string> label_names);
  // Appends the series lines.
  virtual void RenderSeries(std::string& out) const = 0;
  // `values` has one entry per label name: the count is checked here (std::invalid_argument).
  std::vector<std::string> Key(std::initializer_list<std::string_view> values) const;
  // Appends `suffix`, the labels (`extra` last, unescaped name, escaped value) and the value.
  void AppendLine(std::string& out, std::string_view suffix, const std::vector<std::string>& values,
                  double value, std::string_view extra_name = {},
                  std::string_view extra_value = {}) const;

  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  std::string name_;
  std::string help_;
  std::string type_;
  std::vector<std::string> label_names_;
};

template <class Series>
class SeriesFamily : public Family {
 public:
  // The series with these label values (one per label name, in order), created at zero on first
  // use. The reference stays valid as long as the registry.
  Series& With(std::initializer_list<std::string_view> values = {}) {
    auto key = Key(values);
    auto it = series_.find(key);
    if (it == series_.end()) it = series_.emplace(std::move(key), MakeSeries()).first;
    return *it->second;
  }

 protected:
  using Family::Family;
  virtual std::unique_ptr<Series> MakeSeries() const = 0;
  std::map<std::vector<std::string>, std::unique_ptr<Series>> series_;
};

class CounterFamily final : public SeriesFamily<Counter> {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names);

 private:
  std::unique_ptr<Counter> MakeSeries() const override { return std::make_unique<Counter>(); }
  void RenderSeries(std::string& out) const override;
};

class GaugeFamily final : public SeriesFamily<Gauge> {
 public:
  GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names);

 private:
  std::unique_ptr<Gauge> MakeSeries() const override { return std::make_unique<Gauge>(); }
  void RenderSeries(std::string& out) const override;
};

class HistogramFamily final : public SeriesFamily<Histogram> {
 public:
  // `bounds`: ascending and finite (std::invalid_argument otherwise).
  HistogramFamily(std::string name, std::string help, std::vector<double> bounds,
                  std::vector<std::string> label_names);

 private:
  std::unique_ptr<Histogram> MakeSeries() const override {
    return std::make_unique<Histogram>(bounds_);
  }
  void RenderSeries(std::string& out) const override;
  std::vector<double> bounds_;
};

// One series of a computed family: label values (one per label name) and the value.
struct Sample {
  std::vector<std::string> label_values{};
  double value = 0;
};

enum class ComputedType { kCounter, kGauge };

class Registry {
 public:
  // Each name must be a valid Prometheus metric name not yet registered, label names valid and
  // distinct (not "le", not starting with "__"): anything else is a programming error and
  // throws std::invalid_argument. The returned family lives as long as the registry.
  CounterFamily& AddCounter(std::string name, std::string help,
                            std::vector<std::string> label_names = {});
  GaugeFamily& AddGauge(std::string name, std::string help,
                        std::vector<std::string> label_names = {});
  HistogramFamily& AddHistogram(std::string name, std::string help, std::vector<double> bounds,
                                std::vector<std::string> label_names = {});
  // A family whose series `collect` returns at each Render() (on the rendering thread). A
  // sample whose label count is wrong is a programming error (std::invalid_argument).
  void AddComputed(ComputedType type, std::string name, std::string help,
                   std::vector<std::string> label_names,
                   std::function<std::vector<Sample>()> collect);

  // The whole registry in the text exposition format 0.0.4 (Content-Type
  // "text/plain; version=0.0.4; charset=utf-8"), ending with a newline when not empty.
  std::string Render() const;

 private:
  template <class F>
  F& Add(std::unique_ptr<F> family);

  std::vector<std::unique_ptr<Family>> families_;
};

// The exposition format's escapes: a label value (\\, \", \n) and a HELP text (\\, \n).
std::string EscapeLabelValue(std::string_view value);
std::string EscapeHelp(std::string_view help);
// A sample value as the format writes it: integers without a fraction, "+Inf", "-Inf", "NaN",
// else the shortest text that reads back as the same double.
std::string FormatValue(double value);

}  // namespace sluice::server::metrics
