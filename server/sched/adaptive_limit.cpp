#include "server/sched/adaptive_limit.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace sluice::sched {
namespace {

std::string Whole(double value) { return std::to_string(std::llround(value)); }

}  // namespace

AdaptiveLimit::AdaptiveLimit(AdaptiveRange range, AdaptiveTargets targets)
    : range_(range), targets_(targets) {
  range_.min = std::max(range_.min, 1);
  range_.max = std::max(range_.max, range_.min);
}

std::string AdaptiveLimit::Pressure(const LoadWindow& window) const {
  const auto target = static_cast<double>(range_.checkin_p99_target_ms);
  if (window.checkins > 0 && window.checkin_p99_ms > target) {
    return "check-in p99 " + Whole(window.checkin_p99_ms) + " ms > " + Whole(target) + " ms target";
  }
  if (window.loop_lag_ms > target) {
    return "event-loop lag " + Whole(window.loop_lag_ms) + " ms > " + Whole(target) +
           " ms check-in target";
  }
  if (window.loop_cpu > targets_.loop_cpu) {
    return "loop CPU " + Whole(window.loop_cpu * 100) + " % > " + Whole(targets_.loop_cpu * 100) +
           " %";
  }
  return {};
}

std::optional<LimitChange> AdaptiveLimit::Next(const ScopeLoad& scope, const LoadWindow& window) {
  const int limit = scope.limit;
  if (limit < range_.min || limit > range_.max) {
    return LimitChange{std::clamp(limit, range_.min, range_.max),
                       "into the adaptive range [" + std::to_string(range_.min) + ", " +
                           std::to_string(range_.max) + "]"};
  }
  if (lowered_to_ > 0 && scope.running <= lowered_to_) lowered_to_ = 0;
  if (const std::string why = Pressure(window); !why.empty()) {
    growing_fast_ = false;
    if (lowered_to_ > 0) return std::nullopt;  // the last lowering has not taken effect yet
    const int lower = std::max(range_.min, static_cast<int>(std::floor(limit * 0.75)));
    if (lower == limit) return std::nullopt;
    lowered_to_ = lower;
    return LimitChange{lower, why};
  }
  if (window.bandwidth_use && *window.bandwidth_use >= targets_.bandwidth_use) return std::nullopt;
  if (scope.waiting == 0 || scope.running < limit || limit >= range_.max) return std::nullopt;
  const int raised = growing_fast_ ? limit * 2 : limit + std::max(1, limit / 10);
  std::string why =
      "all " + std::to_string(limit) + " slots busy, " + std::to_string(scope.waiting) + " waiting";
  if (window.bandwidth_use) why += ", bandwidth " + Whole(*window.bandwidth_use * 100) + " % used";
  why += ", loop CPU " + Whole(window.loop_cpu * 100) + " %";
  return LimitChange{std::min(raised, range_.max), why};
}

}  // namespace sluice::sched
