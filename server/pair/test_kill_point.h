#pragma once
// Test-only fault injection for the failover pair: SLUICE_TEST_PAIR_KILL_AT=<point> makes the
// process kill itself (SIGKILL, as a crash would) at that point. Points: "snapshot" and
// "package" (the backup, after the first chunk of either arrived), "staged" (the backup, with
// the sync staged, before its commit), "serve" (the primary, asked for a package).

#include <csignal>
#include <cstdlib>
#include <string_view>

namespace sluice::pair {

inline void TestKillPoint(std::string_view point) {
  static const char* chosen = std::getenv("SLUICE_TEST_PAIR_KILL_AT");
  if (chosen != nullptr && point == chosen) ::raise(SIGKILL);
}

}  // namespace sluice::pair
