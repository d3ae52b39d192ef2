#pragma once
// The server's instruments (docs/admin.md, "Metrics"): what the sessions, the listener and the
// throttle count as things happen, one call at each site. The values read from elsewhere at
// render time (slots, clients, the store, the pair) are MetricsService's.
//
// Loop thread (registry.h): the hooks create series on first use. A part on another thread must
// post its counts to the loop.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "server/metrics/registry.h"

namespace sluice::server::metrics {

// Why a connection was turned away (the `reason` label of sluice_connections_refused_total);
// a refused enrollment or check-in uses its protocol error code (auth_failed, …).
inline constexpr std::string_view kRefusedRate = "connection_rate";
inline constexpr std::string_view kRefusedTlsSession = "tls_session";
inline constexpr std::string_view kRefusedHandshake = "tls_handshake";
inline constexpr std::string_view kRefusedHandshakeTimeout = "handshake_timeout";
inline constexpr std::string_view kRefusedAlpn = "alpn";

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  Registry& registry() { return registry_; }
  const Registry& registry() const { return registry_; }

  // A connection was admitted by the connection rate (before TLS).
  void Accepted() { accepted_.Inc(); }
  // A connection was closed for `reason` (see above) before it served a client.
  void Refused(std::string_view reason) { refused_.With({reason}).Inc(); }
  // A client-port TLS handshake completed, resuming a session or in full.
  void Handshake(bool resumed) { (resumed ? resumed_ : full_).Inc(); }
  // A check-in was answered `seconds` after its frame was read.
  void CheckedIn(double seconds);
  // An upgrade lease of `kind` ended with `outcome` (finish, fail, rollback, expire) `seconds`
  // after its grant.
  void UpgradeEnded(std::string_view kind, std::string_view outcome, double seconds);
  // `bytes` of a `kind` package were queued to a client.
  void UpgradeBytesSent(std::string_view kind, uint64_t bytes) {
    upgrade_bytes_.With({kind}).Inc(bytes);
  }

 private:
  Registry registry_;
  Counter& accepted_;
  CounterFamily& refused_;
  CounterFamily& handshakes_;
  Counter& full_;
  Counter& resumed_;
  Counter& checkins_;
  Histogram& checkin_seconds_;
  CounterFamily& upgrades_ended_;
  HistogramFamily& upgrade_seconds_;
  CounterFamily& upgrade_bytes_;
};

}  // namespace sluice::server::metrics
