#pragma once
// How long upgrades take, and what a queued passive client is told: stay connected (held) or
// come back later.

#include <cstddef>
#include <cstdint>

#include "common/base/jitter.h"

namespace sluice::sched {

// Exponentially weighted moving averages of finished upgrade durations in one scope: a quick
// one (weight `alpha` for the newest sample) for retry times, which must follow a change fast,
// and a steady one (weight alpha / 10) for forecasts, which must not jump with every sample.
// Until the first sample both report an initial guess, which may be replaced (SetInitial) as
// long as nothing was recorded. Not thread-safe.
class DurationEstimate {
 public:
  // `initial_ms` is reported until the first Record(); `alpha` in (0, 1] is the weight of the
  // newest sample.
  DurationEstimate(int64_t initial_ms, double alpha);
  // Records one finished upgrade; negative durations (clock stepped back) count as 0.
  void Record(int64_t duration_ms);
  // Replaces the initial guess; ignored once a sample was recorded.
  void SetInitial(int64_t initial_ms);
  // Restores a persisted estimate learned from `samples` upgrades (samples 0: an initial guess).
  void Restore(int64_t estimate_ms, uint64_t samples);
  int64_t Ms() const;
  int64_t SteadyMs() const;
  uint64_t samples() const { return samples_; }

 private:
  double average_ms_;
  double steady_ms_;
  double alpha_;
  uint64_t samples_ = 0;
};

// What a queued passive client is told.
//  - held: keep the connection open for up to hold_ms; the grant is pushed the moment a slot
//    is free for it. If the hold ends first, close and check in again after retry_after_ms.
//  - not held: close now, check in again after retry_after_ms.
struct WaitPlan {
  bool held = false;
  int64_t hold_ms = 0;
  int64_t retry_after_ms = 0;
};

struct RetryOptions {
  // A passive waiter whose slot is predicted within this time is held connected.
  int64_t max_hold_ms = 300'000;
  // Held passive connections across all scopes; past it, waiters are sent away.
  size_t max_held = 5'000;
  int64_t min_retry_ms = 5'000;
  int64_t max_retry_ms = 24LL * 3600 * 1000;
  // Every hold and retry time is spread uniformly by +/- this fraction (at least 0.1).
  double jitter = 0.1;
  // Passive returns per second the retry cap aims for (a share of the connection rate).
  double return_budget_per_s = 25.0;
};

// The passive plan, from the predicted wait W = (position + 1) * estimate / limit (a fluid
// model: `limit` slots each finishing one upgrade per `estimate`):
//  - W <= max_hold_ms and fewer than max_held held: hold for max_hold_ms (jittered), then
//    retry after min_retry_ms (jittered).
//  - otherwise: come back just before the slot, inside the hold window, so that the return is
//    held rather than sent away again: base = min(W - max_hold_ms / 2, 0.85 * W); late by at
//    most the jitter, the client still returns before W. The base is capped at
//    absent / return_budget_per_s (at least min_retry_ms): with `absent` clients away, their
//    returns then cost at most the budget in connections, and an estimate that was too long
//    costs connections, never idle slots. Finally clamped to [min_retry_ms, max_retry_ms].
// The jitter sequence is a pure function of the seed and the call order. Not thread-safe.
class RetryPolicy {
 public:
  RetryPolicy(RetryOptions options, uint64_t seed);
  // `position` 0 = next in line; `limit` >= 1 (smaller values count as 1); `held` passive
  // waiters are held now; `absent` waiters (all scopes) are away.
  WaitPlan Plan(size_t position, int limit, int64_t estimate_ms, size_t held, size_t absent);
  void SetReturnBudget(double per_s);

 private:
  int64_t Clamp(double ms) const;

  RetryOptions options_;
  Jitter jitter_;
};

}  // namespace sluice::sched
