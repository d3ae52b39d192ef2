#pragma once
// `sluice-client enroll --key-info KEY`: the client configuration an installer key stands for
// (the Linux equivalent of `msiexec /i sluice.msi KEY_INFO=KEY`).

#include <cstdint>
#include <string>

#include "common/base/error.h"
#include "common/installer/installer_key.h"

namespace sluice::client {

// What the installing admin asked to change; empty fields keep the installer's values.
struct InstallOverrides {
  std::string mode{};
  std::string jump_group{};
  std::string tag{};
};

struct InstallerConfig {
  installer::InstallerKey key{};
  std::string config_json{};  // the client config file's content
};

// Opens the key (OpenInstallerKey: intact and self-consistent) and builds the config file
// from it. kInvalidArgument for a bad override value; kTimeout
// "installer key expired at <time>" when `now_ms` is past its expiry; the key's own errors.
// Overrides the installer does not allow are still written: the site refuses them
// (installer_override_refused), which is the authoritative answer. Pure.
[[nodiscard]] Result<InstallerConfig> ConfigFromInstallerKey(const std::string& key_text,
                                                             const InstallOverrides& overrides,
                                                             int64_t now_ms);

// Removes the config file and the state dir: a client whose installer expired before it could
// enroll gives up and removes itself. The state dir is removed only if it is empty or holds an
// agent identity (identity.json), never an unrelated directory. Best effort; returns what could
// not be removed.
std::string RemoveClientFiles(const std::string& config_path, const std::string& state_dir);

}  // namespace sluice::client
