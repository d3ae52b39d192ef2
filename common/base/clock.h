#pragma once
// Time seam. Components take a Clock& through their Options so tests can drive time.

#include <chrono>
#include <cstdint>

namespace sluice {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic milliseconds; only differences are meaningful. Thread-safe.
  virtual int64_t MonotonicMs() const = 0;
  // Wall-clock milliseconds since the Unix epoch, for records humans read. Thread-safe.
  virtual int64_t WallMs() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t MonotonicMs() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  }
  int64_t WallMs() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
  static SystemClock& Instance() {
    static SystemClock clock;
    return clock;
  }
};

// A clock that moves only when told to. Not thread-safe: for single-threaded tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ms = 1'000'000) : mono_ms_(start_ms), wall_ms_(start_ms) {}
  int64_t MonotonicMs() const override { return mono_ms_; }
  int64_t WallMs() const override { return wall_ms_; }
  void Advance(int64_t ms) {
    mono_ms_ += ms;
    wall_ms_ += ms;
  }

 private:
  int64_t mono_ms_;
  int64_t wall_ms_;
};

}  // namespace sluice
