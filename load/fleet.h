#pragma once
// N simulated clients on one loop sharing one TLS client context, and the loop driver the
// scenarios use. Loop thread only.

#include <functional>
#include <memory>
#include <vector>

#include "load/sim_client.h"

namespace sluice::load {

struct KindShare {
  proto::ClientKind kind = proto::ClientKind::kJumpClient;
  double share = 1.0;
};

struct FleetOptions {
  int clients = 0;
  double active_share = 1.0;
  std::vector<KindShare> kinds = {KindShare{}};  // shares are normalized
  // Connection starts are spread evenly at this rate so that, unless a scenario wants it,
  // the server's connection-rate limit is not what gets measured.
  double starts_per_s = 1000;
  int source_addresses = 50;
  bool resume_sessions = true;
  uint64_t apply_ms = 0;
  double apply_spread = 0;  // each client's apply time is apply_ms * (1 +/- spread), uniform
  uint64_t rate_bytes_per_s = 0;
  // Goal::kCheckinLoop: pause between a client's check-ins (+/- 10 %); 0 = none.
  uint64_t checkin_pause_ms = 0;
};

class Fleet {
 public:
  // `config` is the site's client configuration (endpoint, pin, enrollment and signing keys).
  // Errors: kInvalidArgument for a bad pin or option.
  [[nodiscard]] static Result<std::unique_ptr<Fleet>> Create(uv::Loop& loop,
                                                             client::ClientConfig config,
                                                             const FleetOptions& options);
  // Closes every connection and waits (bounded) until no callback can reach a client.
  ~Fleet();

  // Every client works towards `goal`, starting at starts_per_s.
  void Start(Goal goal);
  // Closes every client's connection; they stay idle until the next Start.
  void DisconnectAll();

  // Runs the loop until `done()` holds or `timeout_s` passes, calling `tick` every
  // `tick_ms`. Returns false on timeout.
  bool RunUntil(const std::function<bool()>& done, double timeout_s,
                const std::function<void()>& tick = {}, uint64_t tick_ms = 100);

  FleetContext& context() { return context_; }
  const FleetCounters& counters() const { return context_.counters; }
  int size() const { return static_cast<int>(clients_.size()); }
  int active_count() const { return active_; }
  // How many clients of each kind (wire names), for publishing packages and limits.
  std::vector<std::pair<proto::ClientKind, int>> KindCounts() const;

 private:
  explicit Fleet(uv::Loop& loop) : loop_(loop) {}

  uv::Loop& loop_;
  FleetContext context_;
  FleetOptions options_;
  std::vector<std::unique_ptr<SimClient>> clients_;
  std::vector<proto::ClientKind> kinds_;
  int active_ = 0;
};

}  // namespace sluice::load
