#pragma once
// A token bucket on an explicit clock: the global upgrade bandwidth cap (tokens are bytes) and
// the connection-rate limit (tokens are accepts). Not thread-safe.

#include <algorithm>
#include <cstdint>

namespace sluice {

class TokenBucket {
 public:
  // rate_per_s == 0 means unlimited. `burst` is the most tokens that can accumulate.
  TokenBucket(double rate_per_s, double burst, int64_t now_ms) { SetRate(rate_per_s, burst, now_ms); }

  // Applies a new rate at once; tokens already earned are kept up to the new burst.
  void SetRate(double rate_per_s, double burst, int64_t now_ms) {
    Refill(now_ms);
    rate_per_ms_ = rate_per_s / 1000.0;
    burst_ = std::max(burst, 1.0);
    tokens_ = std::min(tokens_, burst_);
    if (!initialized_) tokens_ = burst_;
    initialized_ = true;
  }
  bool unlimited() const { return rate_per_ms_ <= 0; }

  // Takes `n` tokens if they are available now.
  bool TryTake(double n, int64_t now_ms) {
    if (unlimited()) return true;
    Refill(now_ms);
    if (tokens_ < n) return false;
    tokens_ -= n;
    return true;
  }

  // Milliseconds until `n` tokens will be available (0: now). n above the burst is capped.
  int64_t WaitMs(double n, int64_t now_ms) {
    if (unlimited()) return 0;
    Refill(now_ms);
    const double missing = std::min(n, burst_) - tokens_;
    if (missing <= 0) return 0;
    return static_cast<int64_t>(missing / rate_per_ms_) + 1;
  }

 private:
  void Refill(int64_t now_ms) {
    if (initialized_ && now_ms > last_ms_ && rate_per_ms_ > 0) {
      tokens_ = std::min(burst_, tokens_ + (now_ms - last_ms_) * rate_per_ms_);
    }
    last_ms_ = std::max(last_ms_, now_ms);
  }

  double rate_per_ms_ = 0;
  double burst_ = 1;
  double tokens_ = 0;
  int64_t last_ms_ = 0;
  bool initialized_ = false;
};

}  // namespace sluice
