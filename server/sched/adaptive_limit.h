#pragma once
// The adaptive limit (opt-in, per scope): moves max_concurrent within [min, max] from what the
// server measures, once per window, so that check-ins stay fast while upgrades use the headroom.
// The rule, in order (docs/admin.md, "Adaptive limit"):
//  1. out of range (the range was just set): clamp into it;
//  2. pressure — the server's check-in p99, or its event-loop lag, above the check-in target,
//     or its loop thread busier than loop_cpu_target of a core: lower to
//     max(min, floor(limit * 0.75)), unless the last lowering has not taken effect yet (more
//     upgrades still running than that limit: lowering never interrupts a running upgrade, so
//     the server waits for them to finish before judging again);
//  3. the bandwidth cap used (>= bandwidth_use of it): hold — more slots would share the same
//     bytes, not add throughput;
//  4. demand — every slot taken and clients waiting: raise, doubling until the first pressure
//     (a rollout reaches its best limit in a few seconds), then by a tenth (at least 1); at
//     most to max;
//  5. otherwise hold.
// Pure and deterministic; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace sluice::sched {

struct AdaptiveRange {
  int min = 1;
  int max = 1;
  int64_t checkin_p99_target_ms = 500;
};

// One window of the server's own measurements (server/upgrade/load_monitor.h).
struct LoadWindow {
  // p99 of the server's share of a check-in (frame read to checkin_ok written); 0 with none.
  double checkin_p99_ms = 0;
  size_t checkins = 0;
  double loop_lag_ms = 0;  // worst event-loop lag seen in the window
  double loop_cpu = 0;     // the loop thread's CPU time / wall time
  // Upgrade bytes sent / what the bandwidth cap allowed in the window; absent without a cap.
  std::optional<double> bandwidth_use;
};

struct ScopeLoad {
  int limit = 1;
  int running = 0;
  size_t waiting = 0;
};

struct AdaptiveTargets {
  double loop_cpu = 0.9;
  double bandwidth_use = 0.97;
};

struct LimitChange {
  int limit = 0;
  std::string reason;  // for the audit log, e.g. "check-in p99 812 ms > 500 ms target"
};

class AdaptiveLimit {
 public:
  AdaptiveLimit(AdaptiveRange range, AdaptiveTargets targets = {});

  // The new limit for this window, or nullopt to keep the current one.
  std::optional<LimitChange> Next(const ScopeLoad& scope, const LoadWindow& window);

  const AdaptiveRange& range() const { return range_; }
  bool growing_fast() const { return growing_fast_; }

 private:
  // Why the server is under pressure, or "" when it is not.
  std::string Pressure(const LoadWindow& window) const;

  AdaptiveRange range_;
  AdaptiveTargets targets_;
  bool growing_fast_ = true;
  int lowered_to_ = 0;  // the last lowering's limit, until running has come down to it
};

}  // namespace sluice::sched
