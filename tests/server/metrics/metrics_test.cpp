// The server's instruments: every usual series is there from the start, and each hook moves
// exactly its own series.

#include "server/metrics/metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::server::metrics {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(ServerMetricsTest, UsualSeriesStartAtZeroForEveryUpgradableKind) {
  Metrics metrics;
  const std::string text = metrics.registry().Render();
  EXPECT_TRUE(Has(text, "sluice_connections_accepted_total 0"));
  EXPECT_TRUE(Has(text, "sluice_connections_refused_total{reason=\"connection_rate\"} 0"));
  EXPECT_TRUE(Has(text, "sluice_connections_refused_total{reason=\"not_primary\"} 0"));
  EXPECT_TRUE(Has(text, "sluice_tls_handshakes_total{mode=\"resumed\"} 0"));
  EXPECT_TRUE(Has(text, "sluice_checkin_duration_seconds_count 0"));
  for (const std::string kind : {"jump-client", "jumpoint", "access-console", "connection-agent"}) {
    EXPECT_TRUE(
        Has(text, "sluice_upgrades_finished_total{kind=\"" + kind + "\",outcome=\"expire\"} 0"))
        << kind;
    EXPECT_TRUE(Has(text, "sluice_upgrade_sent_bytes_total{kind=\"" + kind + "\"} 0")) << kind;
    EXPECT_TRUE(Has(text, "sluice_upgrade_duration_seconds_count{kind=\"" + kind + "\"} 0"))
        << kind;
  }
  // Integration clients reinstall: the throttle never upgrades them.
  EXPECT_EQ(text.find("integration-client"), std::string::npos);
}

TEST(ServerMetricsTest, EachHookCountsItsOwnSeries) {
  Metrics metrics;
  metrics.Accepted();
  metrics.Refused(kRefusedAlpn);
  metrics.Refused("auth_failed");
  metrics.Handshake(/*resumed=*/true);
  metrics.Handshake(/*resumed=*/false);
  metrics.Handshake(/*resumed=*/false);
  metrics.CheckedIn(0.004);
  metrics.UpgradeEnded("jumpoint", "expire", 130);
  metrics.UpgradeEnded("jumpoint", "finish", 20);
  metrics.UpgradeBytesSent("jumpoint", 1000);
  metrics.UpgradeBytesSent("jumpoint", 24);
  const std::string text = metrics.registry().Render();
  EXPECT_TRUE(Has(text, "sluice_connections_accepted_total 1"));
  EXPECT_TRUE(Has(text, "sluice_connections_refused_total{reason=\"alpn\"} 1"));
  EXPECT_TRUE(Has(text, "sluice_connections_refused_total{reason=\"auth_failed\"} 1"));
  EXPECT_TRUE(Has(text, "sluice_connections_refused_total{reason=\"tls_handshake\"} 0"));
  EXPECT_TRUE(Has(text, "sluice_tls_handshakes_total{mode=\"full\"} 2"));
  EXPECT_TRUE(Has(text, "sluice_tls_handshakes_total{mode=\"resumed\"} 1"));
  EXPECT_TRUE(Has(text, "sluice_checkins_total 1"));
  EXPECT_TRUE(Has(text, "sluice_checkin_duration_seconds_bucket{le=\"0.0025\"} 0"));
  EXPECT_TRUE(Has(text, "sluice_checkin_duration_seconds_bucket{le=\"0.005\"} 1"));
  EXPECT_TRUE(Has(text, "sluice_upgrades_finished_total{kind=\"jumpoint\",outcome=\"expire\"} 1"));
  EXPECT_TRUE(Has(text, "sluice_upgrades_finished_total{kind=\"jumpoint\",outcome=\"finish\"} 1"));
  EXPECT_TRUE(
      Has(text, "sluice_upgrades_finished_total{kind=\"jump-client\",outcome=\"finish\"} 0"));
  EXPECT_TRUE(Has(text, "sluice_upgrade_duration_seconds_bucket{kind=\"jumpoint\",le=\"30\"} 1"));
  EXPECT_TRUE(Has(text, "sluice_upgrade_duration_seconds_bucket{kind=\"jumpoint\",le=\"300\"} 2"));
  EXPECT_TRUE(Has(text, "sluice_upgrade_duration_seconds_sum{kind=\"jumpoint\"} 150"));
  EXPECT_TRUE(Has(text, "sluice_upgrade_sent_bytes_total{kind=\"jumpoint\"} 1024"));
}

}  // namespace
}  // namespace sluice::server::metrics
