#pragma once

#include <cstdint>
#include <string>

namespace sluice {

// "2026-11-25T08:00:00Z" for milliseconds since the Unix epoch (UTC, second precision).
std::string FormatIsoUtc(int64_t wall_ms);

}  // namespace sluice
