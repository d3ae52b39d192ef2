#include "server/sched/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace sluice::sched {

DurationEstimate::DurationEstimate(int64_t initial_ms, double alpha)
    : average_ms_(static_cast<double>(std::max<int64_t>(initial_ms, 0))),
      steady_ms_(average_ms_),
      alpha_(std::clamp(alpha, 0.01, 1.0)) {}

void DurationEstimate::Record(int64_t duration_ms) {
  const double sample = static_cast<double>(std::max<int64_t>(duration_ms, 0));
  if (samples_ == 0) {
    // The first real sample replaces the guess outright: a guess is not worth averaging with.
    average_ms_ = steady_ms_ = sample;
  } else {
    average_ms_ = alpha_ * sample + (1.0 - alpha_) * average_ms_;
    // The steady average weighs early samples more until it has seen enough of them.
    const double steady_alpha = std::max(alpha_ / 10, 1.0 / static_cast<double>(samples_ + 1));
    steady_ms_ = steady_alpha * sample + (1.0 - steady_alpha) * steady_ms_;
  }
  ++samples_;
}

void DurationEstimate::SetInitial(int64_t initial_ms) {
  if (samples_ == 0) {
    average_ms_ = steady_ms_ = static_cast<double>(std::max<int64_t>(initial_ms, 0));
  }
}

void DurationEstimate::Restore(int64_t estimate_ms, uint64_t samples) {
  average_ms_ = steady_ms_ = static_cast<double>(std::max<int64_t>(estimate_ms, 0));
  samples_ = samples;
}

int64_t DurationEstimate::Ms() const { return std::llround(average_ms_); }

int64_t DurationEstimate::SteadyMs() const { return std::llround(steady_ms_); }

RetryPolicy::RetryPolicy(RetryOptions options, uint64_t seed) : options_(options), jitter_(seed) {
  options_.min_retry_ms = std::max<int64_t>(options_.min_retry_ms, 0);
  options_.max_retry_ms = std::max(options_.max_retry_ms, options_.min_retry_ms);
  options_.max_hold_ms = std::max<int64_t>(options_.max_hold_ms, 0);
  options_.jitter = std::clamp(options_.jitter, 0.0, 0.5);
  SetReturnBudget(options_.return_budget_per_s);
}

void RetryPolicy::SetReturnBudget(double per_s) {
  options_.return_budget_per_s = std::max(per_s, 0.01);
}

int64_t RetryPolicy::Clamp(double ms) const {
  // Compare in double before converting: the value can exceed the int64 range.
  if (!(ms < static_cast<double>(options_.max_retry_ms))) return options_.max_retry_ms;
  return std::clamp(static_cast<int64_t>(std::ceil(ms)), options_.min_retry_ms,
                    options_.max_retry_ms);
}

WaitPlan RetryPolicy::Plan(size_t position, int limit, int64_t estimate_ms, size_t held,
                           size_t absent) {
  const double slots = static_cast<double>(std::max(limit, 1));
  const double wait = static_cast<double>(position + 1) *
                      static_cast<double>(std::max<int64_t>(estimate_ms, 0)) / slots;
  const auto hold = static_cast<double>(options_.max_hold_ms);
  if (wait <= hold && held < options_.max_held && options_.max_hold_ms > 0) {
    return WaitPlan{
        .held = true,
        .hold_ms = std::max<int64_t>(std::llround(jitter_.Spread(hold, options_.jitter)), 1),
        .retry_after_ms = Clamp(jitter_.Spread(static_cast<double>(options_.min_retry_ms),
                                               options_.jitter))};
  }
  double base = std::min(wait - hold / 2, 0.85 * wait);
  const double cap = std::max(static_cast<double>(absent) / options_.return_budget_per_s * 1000.0,
                              static_cast<double>(options_.min_retry_ms));
  base = std::min(base, cap);
  return WaitPlan{.retry_after_ms = Clamp(jitter_.Spread(base, options_.jitter))};
}

}  // namespace sluice::sched
