#pragma once
// When will the rollout reach 90 % and 100 % of its outdated clients? A small simulation of the
// throttle: `limit` slots, each upgrade taking the scope's estimated duration, clients taking a
// slot in the order they can (those in line now first, then active clients still to come
// through the connection gate). Pure arithmetic; thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::sched {

struct ScopeForecastInput {
  int limit = 1;
  int64_t estimate_ms = 0;  // one upgrade, grant to result
  // A floor under estimate_ms from the bandwidth cap (package bytes * limit / cap); 0: none.
  int64_t transfer_floor_ms = 0;
  std::vector<int64_t> running_elapsed_ms = {};  // per running lease: time since its grant
  size_t in_line = 0;  // outdated clients seen since the version change, not running
  // Outdated active clients not seen since the change: they reconnect through the connection
  // gate, one every 1 / connection_rate_per_s.
  size_t unseen_active = 0;
  double connection_rate_per_s = 50;
};

// Completion times (ms from now, ascending) of every client of the scope the model covers:
// the running ones, those in line and the unseen active ones.
std::vector<int64_t> ForecastScope(const ScopeForecastInput& input);

struct Forecast {
  std::optional<int64_t> to_90_ms;   // 90 % of the outdated clients upgraded
  std::optional<int64_t> to_100_ms;  // all of them
};

// Combines the completions of every scope. `outdated` counts every outdated client, including
// `unknown` ones the model cannot place (passive clients not seen since the version change,
// clients whose kind may not upgrade): a mark stays unknown when it needs one of them.
// 90 % is ceil(0.9 * outdated) clients. Nothing outdated: both 0.
Forecast CombineForecasts(std::vector<int64_t> completions, size_t outdated);

}  // namespace sluice::sched
