#pragma once
// Spreading timers that many clients share, so that a fleet never moves in lockstep.
//
// A deterministic generator (SplitMix64): the sequence is a pure function of the seed and the
// call order, identical on every platform, so tests and simulations reproduce it. Spreading
// needs no cryptographic randomness; seed it from crypto::RandomBytes where clients must
// differ. Not thread-safe.

#include <cstdint>

namespace sluice {

class Jitter {
 public:
  explicit Jitter(uint64_t seed) : state_(seed) {}

  // Uniform in [0, 1).
  double Unit() {
    state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53;
  }

  // `value` spread uniformly over [value * (1 - fraction), value * (1 + fraction)).
  double Spread(double value, double fraction) { return value * (1.0 + fraction * (2.0 * Unit() - 1.0)); }

  // The same for a whole number of milliseconds (rounded down, never negative).
  uint64_t SpreadMs(uint64_t ms, double fraction) {
    const double spread = Spread(static_cast<double>(ms), fraction);
    return spread <= 0 ? 0 : static_cast<uint64_t>(spread);
  }

 private:
  uint64_t state_;
};

}  // namespace sluice
