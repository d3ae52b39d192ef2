#include "server/sched/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace sluice::sched {

DurationEstimate::DurationEstimate(int64_t default_ms, double alpha)
    : average_ms_(static_cast<double>(std::max<int64_t>(default_ms, 0))),
      alpha_(std::clamp(alpha, 0.01, 1.0)) {}

void DurationEstimate::Record(int64_t duration_ms) {
  const double sample = static_cast<double>(std::max<int64_t>(duration_ms, 0));
  average_ms_ = have_sample_ ? alpha_ * sample + (1.0 - alpha_) * average_ms_ : sample;
  have_sample_ = true;
}

int64_t DurationEstimate::Ms() const { return std::llround(average_ms_); }

RetryPolicy::RetryPolicy(int64_t min_ms, int64_t max_ms, double jitter, uint64_t seed)
    : min_ms_(std::max<int64_t>(min_ms, 0)),
      max_ms_(std::max(max_ms, std::max<int64_t>(min_ms, 0))),
      jitter_(std::clamp(jitter, 0.0, 1.0)),
      state_(seed) {}

double RetryPolicy::NextUnit() {
  // SplitMix64: tiny, fast, and identical on every platform (unlike std distributions).
  state_ += 0x9E3779B97F4A7C15ULL;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

int64_t RetryPolicy::RetryAfterMs(size_t position, int limit, int64_t estimate_ms) {
  const uint64_t per_wave = static_cast<uint64_t>(std::max(limit, 1));
  const uint64_t waves = (static_cast<uint64_t>(position) + per_wave) / per_wave;
  const double factor = 1.0 + jitter_ * (2.0 * NextUnit() - 1.0);
  const double wait =
      static_cast<double>(waves) * static_cast<double>(std::max<int64_t>(estimate_ms, 0)) * factor;
  // Compare in double before converting: the product can exceed the int64 range.
  if (!(wait < static_cast<double>(max_ms_))) return max_ms_;
  return std::clamp(static_cast<int64_t>(std::ceil(wait)), min_ms_, max_ms_);
}

}  // namespace sluice::sched
