#pragma once
// How long a queued passive client should stay away, and how long upgrades take.

#include <cstddef>
#include <cstdint>

namespace sluice::sched {

// Exponentially weighted moving average of finished upgrade durations in one scope.
// Not thread-safe.
class DurationEstimate {
 public:
  // `default_ms` is reported until the first Record(); `alpha` in (0, 1] is the weight of the
  // newest sample.
  DurationEstimate(int64_t default_ms, double alpha);
  // Records one finished upgrade; negative durations (clock stepped back) count as 0.
  void Record(int64_t duration_ms);
  int64_t Ms() const;

 private:
  double average_ms_;
  double alpha_;
  bool have_sample_ = false;
};

// retry_after = clamp(ceil((position + 1) / limit) * estimate * (1 +/- jitter), min, max):
// the number of "waves" of `limit` upgrades ahead of the client times the time a wave takes,
// spread by a uniform jitter so that clients queued together do not come back together.
// The jitter sequence is a pure function of the seed and the call order (SplitMix64), so a
// given seed reproduces the same replies. Not thread-safe.
class RetryPolicy {
 public:
  RetryPolicy(int64_t min_ms, int64_t max_ms, double jitter, uint64_t seed);
  // `position` 0 = next in line; `limit` >= 1 (smaller values count as 1).
  int64_t RetryAfterMs(size_t position, int limit, int64_t estimate_ms);

 private:
  double NextUnit();  // uniform in [0, 1)

  int64_t min_ms_;
  int64_t max_ms_;
  double jitter_;
  uint64_t state_;
};

}  // namespace sluice::sched
