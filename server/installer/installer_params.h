#pragma once
// What an admin asks for when creating an installer, and the checks on it
// (docs/admin.md, "Installers"). Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"

namespace sluice::server {

inline constexpr int64_t kMinInstallerValidityMs = 10LL * 60 * 1000;          // 10 minutes
inline constexpr int64_t kMaxInstallerValidityMs = 365LL * 24 * 3600 * 1000;  // 1 year
inline constexpr int64_t kDefaultInstallerValidityMs = 24LL * 3600 * 1000;    // 1 day

struct InstallerParams {
  std::string kind{};  // "jump-client" or "access-console"
  std::string mode = "active";
  std::string jump_group{};
  std::string tag{};
  std::string comments{};
  std::vector<std::string> overrides{};  // sorted, no duplicates
  int64_t valid_for_ms = kDefaultInstallerValidityMs;
  std::string site_version{};  // empty: the site's current version
  std::string creator{};
};

// "30m", "12h", "7d", "1h30m", "90s", "1y" (365 d) -> milliseconds. kInvalidArgument with the
// expected shape for anything else.
[[nodiscard]] Result<int64_t> ParseDuration(std::string_view text);

// Checks kind, mode, overrides, text lengths and the validity range
// [min_validity_ms, kMaxInstallerValidityMs]; sorts and de-duplicates overrides.
// kInvalidArgument naming the bad field. `min_validity_ms` is kMinInstallerValidityMs except
// under sluiced's documented test hook (--min-installer-validity-s).
[[nodiscard]] Status ValidateInstallerParams(InstallerParams& params, int64_t min_validity_ms);

// Checks a new validity (installer extend) against the same range.
[[nodiscard]] Status ValidateValidity(int64_t valid_for_ms, int64_t min_validity_ms);

}  // namespace sluice::server
