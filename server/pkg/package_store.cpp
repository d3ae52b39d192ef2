#include "server/pkg/package_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include "common/base/version.h"
#include "common/proto/enums.h"

namespace sluice::server {

Status ValidatePackageSpec(const PackageSpec& spec) {
  if (auto kind = proto::ParseClientKind(spec.kind); !kind) {
    return Context(kind.error(), "package kind");
  }
  if (auto version = Version::Parse(spec.version); !version) {
    return Context(version.error(), "package version");
  }
  const std::string& platform = spec.platform;
  bool printable = true;
  for (char c : platform) printable = printable && c >= '!' && c <= '~';
  if (platform.empty() || platform.size() > kMaxPlatformLength || !printable) {
    return Fail(Errc::kInvalidArgument, "package platform '" + platform + "' must be 1 to " +
                                            std::to_string(kMaxPlatformLength) +
                                            " printable characters without spaces");
  }
  return {};
}

std::string PackageFilePath(std::string_view packages_dir, std::string_view sha256) {
  std::string path(packages_dir);
  if (!path.empty() && path.back() != '/') path += '/';
  path += sha256;
  return path;
}

std::string PackageFileState(const PackageRecord& record) {
  struct stat st{};
  if (::stat(record.path.c_str(), &st) != 0) return "missing";
  if (static_cast<uint64_t>(st.st_size) != record.size) {
    return "wrong size (" + std::to_string(st.st_size) + " bytes)";
  }
  if (::access(record.path.c_str(), R_OK) != 0) return "unreadable";
  return "ok";
}

}  // namespace sluice::server
