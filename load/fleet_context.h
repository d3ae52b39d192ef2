#pragma once
// What every simulated client of one fleet shares: the loop, the TLS context, the site
// configuration, the behaviour knobs and the live counters the scenarios read. Owned by the
// Fleet; loop thread only.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client/config/client_config.h"
#include "common/base/jitter.h"
#include "common/proto/enums.h"
#include "common/tls/tls_context.h"
#include "common/uv/loop.h"

namespace sluice::load {

// What a client does once it is enrolled.
enum class Goal {
  kEnroll,         // enroll, check in once, disconnect
  kUpgrade,        // check in and follow the upgrade protocol until the result is acknowledged
  kStayConnected,  // check in and stay connected (heartbeats); reconnect with backoff if dropped
  kCheckinLoop,    // connect, check in, disconnect, again, until `stop` is set
};

inline constexpr size_t kKindSlots = proto::EnumTraits<proto::ClientKind>::kNames.size();

// One client's first upgrade answer and its grant (uv_hrtime() ns), for the fairness figures.
struct GrantRecord {
  proto::ClientKind kind;
  bool active = false;
  uint64_t first_answer_ns = 0;  // the first upgrade_wait or upgrade_grant it received
  uint64_t grant_ns = 0;         // its first upgrade_grant
};

struct FleetCounters {
  int enrolled = 0;          // finished enrollment (first checkin_ok)
  int upgraded = 0;          // upgrade_result acknowledged
  int failed = 0;            // gave up: refused, or the package failed verification
  // Holding a grant, result not yet sent: what the clients can observe, per kind (the limit
  // is per kind) and in all.
  std::array<int, kKindSlots> in_flight_by_kind{};
  std::array<int, kKindSlots> max_in_flight_by_kind{};
  int in_flight = 0;
  int queued = 0;            // told to wait, not yet granted
  int connected = 0;         // checked in and still connected (kStayConnected)
  uint64_t checkins = 0;     // checkin_ok received, any goal
  uint64_t handshakes = 0;   // TLS handshakes completed (connections the server accepted)
  uint64_t resumed = 0;      // check-ins over a resumed TLS session
  uint64_t connect_errors = 0;
  int dials = 0;             // TCP connects in progress
  int open_connections = 0;  // TlsConnections not yet closed
  uint64_t bytes = 0;        // package bytes received
  uint64_t last_upgrade_ns = 0;  // uv_hrtime() of the latest acknowledged upgrade
  std::vector<double> checkin_ms;  // checkin sent -> checkin_ok
  std::vector<GrantRecord> grants;  // one per client granted, in grant order
};

struct FleetContext {
  uv::Loop* loop = nullptr;
  std::shared_ptr<tls::TlsContext> tls;
  client::ClientConfig config;
  std::string platform;
  std::string host = "127.0.0.1";
  int port = 0;
  int source_addresses = 50;  // clients dial from 127.0.0.1 .. 127.0.0.<n>, round robin
  Goal goal = Goal::kEnroll;
  bool resume_sessions = true;  // reuse the last TLS session on reconnect
  bool stop = false;            // kCheckinLoop / kStayConnected: no new connections
  uint64_t apply_ms = 0;        // simulated apply time (mean)
  double apply_spread = 0;      // each client's apply time: apply_ms * (1 +/- spread), uniform
  uint64_t rate_bytes_per_s = 0;  // simulated link rate for package downloads; 0: unlimited
  uint64_t checkin_pause_ms = 0;  // kCheckinLoop: pause between check-ins (+/- 10 %); 0: none
  std::string target_version;
  Jitter jitter{0x5eed};  // spreads the clients' reconnects; deterministic per run
  FleetCounters counters;
};

}  // namespace sluice::load
