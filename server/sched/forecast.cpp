#include "server/sched/forecast.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>

namespace sluice::sched {

std::vector<int64_t> ForecastScope(const ScopeForecastInput& input) {
  const int64_t duration = std::max<int64_t>({input.estimate_ms, input.transfer_floor_ms, 1});
  std::vector<int64_t> completions;
  completions.reserve(input.running_elapsed_ms.size() + input.in_line + input.unseen_active);
  // When each slot is free next (a min-heap). Running leases free theirs when the estimate says
  // they end; one already past it is taken to end now.
  std::priority_queue<int64_t, std::vector<int64_t>, std::greater<>> free_at;
  for (int64_t elapsed : input.running_elapsed_ms) {
    const int64_t end = std::max<int64_t>(duration - elapsed, 0);
    completions.push_back(end);
    free_at.push(end);
  }
  for (int i = static_cast<int>(input.running_elapsed_ms.size()); i < std::max(input.limit, 1);
       ++i) {
    free_at.push(0);
  }
  const double gap_ms = 1000.0 / std::max(input.connection_rate_per_s, 0.001);
  auto start_one = [&](int64_t ready_ms) {
    const int64_t start = std::max(free_at.top(), ready_ms);
    free_at.pop();
    completions.push_back(start + duration);
    free_at.push(start + duration);
  };
  for (size_t i = 0; i < input.in_line; ++i) start_one(0);
  for (size_t i = 0; i < input.unseen_active; ++i) {
    start_one(std::llround(static_cast<double>(i + 1) * gap_ms));
  }
  std::sort(completions.begin(), completions.end());
  return completions;
}

Forecast CombineForecasts(std::vector<int64_t> completions, size_t outdated) {
  if (outdated == 0) return Forecast{.to_90_ms = 0, .to_100_ms = 0};
  std::sort(completions.begin(), completions.end());
  auto nth = [&](size_t count) -> std::optional<int64_t> {
    if (count == 0) return 0;
    if (count > completions.size()) return std::nullopt;
    return completions[count - 1];
  };
  const size_t ninety = (9 * outdated + 9) / 10;  // ceil(0.9 * outdated), in integers
  return Forecast{.to_90_ms = nth(ninety), .to_100_ms = nth(outdated)};
}

}  // namespace sluice::sched
