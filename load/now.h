#pragma once
// The load tool's one clock for elapsed times.

#include <uv.h>

namespace sluice::load {

// Seconds on a monotonic clock.
inline double NowS() { return static_cast<double>(uv_hrtime()) / 1e9; }

}  // namespace sluice::load
