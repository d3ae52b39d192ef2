#pragma once
// Builds one installer MSI: signs its installer key, patches the kind's template with it
// (msi::BuildInstaller) and Authenticode-signs the result when a code-signing certificate is
// configured. Blocking (file I/O, osslsigncode): run it on a uv::WorkerThread, never on the loop.

#include <cstdint>
#include <optional>
#include <string>

#include "common/base/error.h"
#include "common/crypto/ed25519.h"
#include "common/installer/installer_key.h"
#include "msi/installer_signer.h"
#include "server/installer/installer_repo.h"

namespace sluice::server {

struct BuildRequest {
  std::string installers_dir{};   // DATA_DIR/installers
  std::string template_dir{};     // where the wixl-built templates are
  installer::InstallerKey key{};  // what the installer is; key.id names its folder
  const crypto::SigningKey* signing_key = nullptr;  // the site's; must outlive the call
  std::optional<msi::SigningConfig> code_signing{};
  int64_t now_ms = 0;
};

struct BuildOutcome {
  InstallerBuild build{};
  std::string upgrade_code{};
};

// Writes DATA_DIR/installers/<id>/sluice-<kind>-<site version>-<random>.msi (folder 0700) and
// describes it. On failure no new file is left behind. Errors: those of msi::BuildInstaller
// and msi::SignInstaller, with context; kIo when the folder cannot be made. Thread-safe.
Result<BuildOutcome> BuildInstallerFile(const BuildRequest& request);

}  // namespace sluice::server
