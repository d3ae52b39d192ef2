#include "server/checkin/checkin_validation.h"

#include <cmath>

#include "common/base/version.h"
#include "common/crypto/random.h"

namespace sluice::server {
namespace {

constexpr size_t kMaxPlatformBytes = 64;
constexpr size_t kMaxConsoleUserBytes = 256;

Status Invalid(std::string message) { return Fail(Errc::kInvalidArgument, std::move(message)); }

bool IsPrintableAscii(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

Status ValidateIdentity(std::string_view client_id, std::string_view version,
                        std::string_view platform) {
  if (!crypto::IsUuid(client_id)) return Invalid("client_id must be a UUID");
  if (auto parsed = Version::Parse(version); !parsed) return Invalid(parsed.error().message());
  if (platform.empty() || platform.size() > kMaxPlatformBytes || !IsPrintableAscii(platform)) {
    return Invalid("platform must be 1 to 64 printable ASCII characters");
  }
  return {};
}

}  // namespace

Status ValidateEnroll(const proto::Enroll& enroll) {
  return ValidateIdentity(enroll.client_id, enroll.version, enroll.platform);
}

Status ValidateCheckin(const proto::Checkin& checkin) {
  if (auto identity = ValidateIdentity(checkin.client_id, checkin.version, checkin.platform);
      !identity) {
    return identity;
  }
  const auto& stats = checkin.stats;
  if (!std::isfinite(stats.cpu_load) || stats.cpu_load < 0 || stats.cpu_load > 10'000) {
    return Invalid("stats.cpu_load must be a finite number from 0 to 10000");
  }
  if (!std::isfinite(stats.disk_used_pct) || stats.disk_used_pct < 0 ||
      stats.disk_used_pct > 100) {
    return Invalid("stats.disk_used_pct must be a number from 0 to 100");
  }
  if (stats.uptime_s > (1ULL << 40)) return Invalid("stats.uptime_s is implausibly large");
  if (stats.console_user.size() > kMaxConsoleUserBytes) {
    return Invalid("stats.console_user must be at most 256 bytes");
  }
  return {};
}

}  // namespace sluice::server
