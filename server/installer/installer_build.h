#pragma once
// Builds one installer MSI: finds or builds the kind's template around the site's Windows client
// (msi::BuildTemplate, cached by the client's SHA-256), signs the installer key, patches a copy
// of the template with it (msi::BuildInstaller) and Authenticode-signs the result when a
// code-signing certificate is configured. Blocking (file I/O, wixl, osslsigncode): run it on a
// uv::WorkerThread, never on the loop; one build at a time per templates_dir.

#include <cstdint>
#include <optional>
#include <string>

#include "common/base/error.h"
#include "common/crypto/ed25519.h"
#include "common/installer/installer_key.h"
#include "msi/installer_signer.h"
#include "server/pkg/package_store.h"
#include "server/installer/installer_repo.h"

namespace sluice::server {

struct BuildRequest {
  std::string installers_dir{};   // DATA_DIR/installers
  std::string templates_dir{};    // cache of built templates, DATA_DIR/cache/templates
  PackageRecord client{};         // the kind's windows-x86_64 package at key.site_version
  installer::InstallerKey key{};  // what the installer is; key.id names its folder
  const crypto::SigningKey* signing_key = nullptr;  // the site's; must outlive the call
  std::optional<msi::SigningConfig> code_signing{};
  int64_t now_ms = 0;
};

struct BuildOutcome {
  InstallerBuild build{};
  std::string upgrade_code{};
};

// The platform whose package an installer carries.
inline constexpr std::string_view kInstallerPlatform = "windows-x86_64";

// How many built templates the cache keeps (the most recently used); the rest are removed.
inline constexpr size_t kCachedTemplates = 4;

// Writes DATA_DIR/installers/<id>/sluice-<kind>-<site version>-<random>.msi (folder 0700) and
// describes it. On failure no new file is left behind. Errors: those of msi::BuildTemplate,
// msi::BuildInstaller and msi::SignInstaller, with context; kIo when a folder cannot be made.
[[nodiscard]] Result<BuildOutcome> BuildInstallerFile(const BuildRequest& request);

}  // namespace sluice::server
