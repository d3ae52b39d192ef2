#pragma once

#include <cstdint>
#include <string>

namespace sluice {

// "2026-11-25T08:00:00Z" for milliseconds since the Unix epoch (UTC, second precision).
std::string FormatIsoUtc(int64_t wall_ms);

// "20261125T080000.123Z": the same instant to the millisecond, without separators that file
// names and shells mind.
std::string FormatCompactUtc(int64_t wall_ms);

}  // namespace sluice
