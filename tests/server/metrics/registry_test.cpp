// The metrics registry's text exposition format 0.0.4: what a Prometheus server parses.

#include "server/metrics/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

namespace sluice::server::metrics {
namespace {

TEST(MetricsRegistryTest, RendersHelpTypeAndLabelledCountersInLabelOrder) {
  Registry registry;
  CounterFamily& refused =
      registry.AddCounter("test_refused_total", "Refused connections.", {"reason"});
  refused.With({"tls"}).Inc(2);
  refused.With({"alpn"}).Inc();
  EXPECT_EQ(registry.Render(),
            "# HELP test_refused_total Refused connections.\n"
            "# TYPE test_refused_total counter\n"
            "test_refused_total{reason=\"alpn\"} 1\n"
            "test_refused_total{reason=\"tls\"} 2\n");
}

TEST(MetricsRegistryTest, FamiliesRenderInRegistrationOrderAndEmptyOnesNotAtAll) {
  Registry registry;
  registry.AddGauge("test_b", "B.").With().Set(1.5);
  registry.AddCounter("test_unused_total", "Never used.", {"kind"});
  registry.AddCounter("test_a_total", "A.").With().Inc(7);
  EXPECT_EQ(registry.Render(),
            "# HELP test_b B.\n# TYPE test_b gauge\ntest_b 1.5\n"
            "# HELP test_a_total A.\n# TYPE test_a_total counter\ntest_a_total 7\n");
}

TEST(MetricsRegistryTest, EscapesLabelValuesAndHelpText) {
  Registry registry;
  registry.AddGauge("test_clients", "Clients by \"version\"\nand a back\\slash.", {"version"})
      .With({"a\"b\\c\nd"})
      .Set(1);
  EXPECT_EQ(registry.Render(),
            "# HELP test_clients Clients by \"version\"\\nand a back\\\\slash.\n"
            "# TYPE test_clients gauge\n"
            "test_clients{version=\"a\\\"b\\\\c\\nd\"} 1\n");
  EXPECT_EQ(EscapeLabelValue("<script>"), "<script>");  // nothing else is special
}

TEST(MetricsRegistryTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry registry;
  HistogramFamily& family =
      registry.AddHistogram("test_duration_seconds", "Durations.", {0.125, 0.5, 2}, {"kind"});
  Histogram& jump = family.With({"jump-client"});
  jump.Observe(0.125);  // on a bound: counted in that bucket (le)
  jump.Observe(0.25);
  jump.Observe(0.5);
  jump.Observe(30);  // past every bound: only +Inf
  EXPECT_EQ(registry.Render(),
            "# HELP test_duration_seconds Durations.\n"
            "# TYPE test_duration_seconds histogram\n"
            "test_duration_seconds_bucket{kind=\"jump-client\",le=\"0.125\"} 1\n"
            "test_duration_seconds_bucket{kind=\"jump-client\",le=\"0.5\"} 3\n"
            "test_duration_seconds_bucket{kind=\"jump-client\",le=\"2\"} 3\n"
            "test_duration_seconds_bucket{kind=\"jump-client\",le=\"+Inf\"} 4\n"
            "test_duration_seconds_sum{kind=\"jump-client\"} 30.875\n"
            "test_duration_seconds_count{kind=\"jump-client\"} 4\n");
}

TEST(MetricsRegistryTest, UnlabelledHistogramPutsOnlyLeInItsBuckets) {
  Registry registry;
  registry.AddHistogram("test_latency_seconds", "Latency.", {1}).With().Observe(2);
  EXPECT_EQ(registry.Render(),
            "# HELP test_latency_seconds Latency.\n"
            "# TYPE test_latency_seconds histogram\n"
            "test_latency_seconds_bucket{le=\"1\"} 0\n"
            "test_latency_seconds_bucket{le=\"+Inf\"} 1\n"
            "test_latency_seconds_sum 2\n"
            "test_latency_seconds_count 1\n");
}

TEST(MetricsRegistryTest, FormatsValuesAsPrometheusReadsThem) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(1'700'000'000), "1700000000");
  EXPECT_EQ(FormatValue(-3), "-3");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(1.7e20), "1.7e+20");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
  // Round trip: the shortest text that reads back as the same double.
  EXPECT_EQ(std::stod(FormatValue(0.1 + 0.2)), 0.1 + 0.2);
}

TEST(MetricsRegistryTest, ComputedFamiliesAreReadAtEachRenderAndSorted) {
  Registry registry;
  double slots = 3;
  registry.AddComputed(ComputedType::kGauge, "test_slots", "Slots.", {"kind"}, [&slots] {
    return std::vector<Sample>{{.label_values = {"jumpoint"}, .value = 1},
                               {.label_values = {"jump-client"}, .value = slots}};
  });
  EXPECT_NE(registry.Render().find("test_slots{kind=\"jump-client\"} 3\n"
                                   "test_slots{kind=\"jumpoint\"} 1\n"),
            std::string::npos);
  slots = 5;
  EXPECT_NE(registry.Render().find("test_slots{kind=\"jump-client\"} 5\n"), std::string::npos);
  // A computed family with no samples renders nothing, not even its HELP.
  registry.AddComputed(ComputedType::kGauge, "test_absent", "Absent.", {},
                       [] { return std::vector<Sample>{}; });
  EXPECT_EQ(registry.Render().find("test_absent"), std::string::npos);
}

TEST(MetricsRegistryTest, RefusesInvalidNamesDuplicatesAndWrongLabelCounts) {
  Registry registry;
  EXPECT_THROW(registry.AddCounter("9starts_with_digit", "x"), std::invalid_argument);
  EXPECT_THROW(registry.AddCounter("has-dash_total", "x"), std::invalid_argument);
  EXPECT_THROW(registry.AddCounter("test_total", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.AddHistogram("test_seconds", "x", {1}, {"le"}), std::invalid_argument);
  EXPECT_THROW(registry.AddCounter("test_total", "x", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(registry.AddHistogram("test_h_seconds", "x", {2, 1}), std::invalid_argument);
  CounterFamily& family = registry.AddCounter("test_total", "x", {"kind"});
  EXPECT_THROW(registry.AddGauge("test_total", "again"), std::invalid_argument);
  EXPECT_THROW(family.With({}), std::invalid_argument);
  EXPECT_THROW(family.With({"a", "b"}), std::invalid_argument);
  registry.AddComputed(ComputedType::kGauge, "test_bad", "x", {"kind"},
                       [] { return std::vector<Sample>{{.value = 1}}; });
  EXPECT_THROW(registry.Render(), std::invalid_argument);
}

TEST(MetricsRegistryTest, CountersAndGaugesMayBeUpdatedFromOtherThreads) {
  Registry registry;
  Counter& counter = registry.AddCounter("test_bytes_total", "Bytes.").With();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&counter] {
      for (int i = 0; i < 10'000; ++i) counter.Inc(3);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.value(), 120'000u);
  EXPECT_NE(registry.Render().find("test_bytes_total 120000\n"), std::string::npos);
}

}  // namespace
}  // namespace sluice::server::metrics
