#pragma once
// Fixed wall-clock instants the server unit tests share, so their expectations are exact.

#include <cstdint>

namespace sluice::testing {

inline constexpr int64_t kT0 = 1'700'000'000'000;   // 2023-11-14T22:13:20Z
inline constexpr int64_t kNow = 1'764'057'600'000;  // 2025-11-25T08:00:00Z

}  // namespace sluice::testing
