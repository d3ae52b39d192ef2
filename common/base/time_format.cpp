#include "common/base/time_format.h"

#include <cstdio>
#include <ctime>

namespace sluice {
namespace {

// `wall_ms` (UTC, whole seconds) through strftime's `format`.
std::string FormatUtcSeconds(int64_t wall_ms, const char* format) {
  const std::time_t seconds = static_cast<std::time_t>(wall_ms / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[40];
  const size_t n = std::strftime(text, sizeof(text), format, &utc);
  return std::string(text, n);
}

}  // namespace

std::string FormatIsoUtc(int64_t wall_ms) {
  return FormatUtcSeconds(wall_ms, "%Y-%m-%dT%H:%M:%SZ");
}

std::string FormatCompactUtc(int64_t wall_ms) {
  char millis[8];
  std::snprintf(millis, sizeof(millis), ".%03dZ", static_cast<int>(wall_ms % 1000));
  return FormatUtcSeconds(wall_ms, "%Y%m%dT%H%M%S") + millis;
}

}  // namespace sluice
