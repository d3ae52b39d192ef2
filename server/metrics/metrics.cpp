#include "server/metrics/metrics.h"

#include <vector>

#include "common/proto/enums.h"

namespace sluice::server::metrics {
namespace {

// Check-ins take milliseconds (one database batch); a slow store shows up to the right.
const std::vector<double> kCheckinBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,  0.5,    1,     2.5,  5,     10};
// An upgrade: the download, the client's install and health check, the report.
const std::vector<double> kUpgradeBuckets = {5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600};
constexpr std::string_view kOutcomes[] = {"finish", "fail", "rollback", "expire"};

}  // namespace

Metrics::Metrics()
    : accepted_(registry_
                    .AddCounter("sluice_connections_accepted_total",
                                "Connections admitted by the connection rate (before TLS).")
                    .With()),
      refused_(registry_.AddCounter(
          "sluice_connections_refused_total",
          "Connections closed before they served a client, by reason: connection_rate, "
          "tls_session, tls_handshake, handshake_timeout, alpn, or the protocol error code of a "
          "refused enrollment or check-in (auth_failed, not_primary, ...).",
          {"reason"})),
      handshakes_(registry_.AddCounter(
          "sluice_tls_handshakes_total",
          "Completed TLS handshakes on the client port, by mode: full or resumed.", {"mode"})),
      full_(handshakes_.With({"full"})),
      resumed_(handshakes_.With({"resumed"})),
      checkins_(registry_.AddCounter("sluice_checkins_total", "Check-ins answered.").With()),
      checkin_seconds_(registry_
                           .AddHistogram("sluice_checkin_duration_seconds",
                                         "Time from a check-in's frame to its answer.",
                                         kCheckinBuckets)
                           .With()),
      upgrades_ended_(registry_.AddCounter(
          "sluice_upgrades_finished_total",
          "Upgrade leases ended, by kind and outcome (finish, fail, rollback, expire).",
          {"kind", "outcome"})),
      upgrade_seconds_(registry_.AddHistogram(
          "sluice_upgrade_duration_seconds",
          "Time from an upgrade's grant to the end of its lease, whatever the outcome.",
          kUpgradeBuckets, {"kind"})),
      upgrade_bytes_(registry_.AddCounter("sluice_upgrade_sent_bytes_total",
                                          "Package bytes sent to upgrading clients.", {"kind"})) {
  // Every usual series exists from the start at 0, so rates and alerts see them.
  for (std::string_view reason :
       {kRefusedRate, kRefusedTlsSession, kRefusedHandshake, kRefusedHandshakeTimeout, kRefusedAlpn,
        proto::ToString(proto::ErrorCode::kNotPrimary)}) {
    refused_.With({reason});
  }
  for (std::string_view kind : proto::UpgradableKinds()) {
    for (std::string_view outcome : kOutcomes) upgrades_ended_.With({kind, outcome});
    upgrade_seconds_.With({kind});
    upgrade_bytes_.With({kind});
  }
}

void Metrics::CheckedIn(double seconds) {
  checkins_.Inc();
  checkin_seconds_.Observe(seconds);
}

void Metrics::UpgradeEnded(std::string_view kind, std::string_view outcome, double seconds) {
  upgrades_ended_.With({kind, outcome}).Inc();
  upgrade_seconds_.With({kind}).Observe(seconds);
}

}  // namespace sluice::server::metrics
