#pragma once
// Generates per-site installer packages from a kind's template (msi/installer_template.h, the
// template built around the site's Windows client).
//
// Each generated MSI is a patched copy of the template: installer properties (e.g.
// KEY_INFO), a fresh ProductCode, the ProductVersion derived from the site version, Upgrade
// rows that follow that version (so a newer package replaces an older one without an
// uninstall), and a fresh PackageCode. The UpgradeCode stays the template's, per kind.
//
// Threads: every function blocks on file I/O (call it off the event loop) and may be called
// from any thread; libmsi use is serialized internally.

#include <map>
#include <string>
#include <string_view>

#include "common/base/error.h"

namespace sluice::msi {

inline constexpr std::string_view kJumpClientKind = "jump-client";
inline constexpr std::string_view kAccessConsoleKind = "access-console";

struct InstallerSpec {
  std::string kind;          // kJumpClientKind or kAccessConsoleKind
  std::string site_version;  // e.g. "24.3.1"; mapped by MsiProductVersion()
  // Installer properties such as {"KEY_INFO", "..."}. Names are MSI identifiers; values are
  // non-empty printable ASCII. ProductCode, ProductVersion and UpgradeCode are managed by the
  // builder and may not be given here.
  std::map<std::string, std::string> properties;
};

struct BuiltInstaller {
  std::string product_code;     // new "{8-4-4-4-12}" uppercase GUID
  std::string package_code;     // new GUID, summary information PID_REVNUMBER
  std::string product_version;  // "A.B.C"
  std::string upgrade_code;     // the kind's fixed UpgradeCode
};

// Writes a patched copy of the kind's template at `template_path` to `out_path`, replacing any
// file there atomically (temp file in the same directory, fsync, rename); on failure nothing is
// left behind and an existing `out_path` is untouched. The template is never modified.
// Errors: kInvalidArgument (unknown kind, bad property name or value, version not
// representable), kNotFound (template missing), kCorrupt (template lacks ProductVersion,
// UpgradeCode or its Upgrade rows), kIo / kDatabase when copying, patching or renaming fails.
[[nodiscard]] Result<BuiltInstaller> BuildInstaller(const std::string& template_path,
                                                    const InstallerSpec& spec,
                                                    const std::string& out_path);

// Every row of the Property table of `msi_path`, by name. kIo when the file is not an MSI.
[[nodiscard]] Result<std::map<std::string, std::string>> ReadProperties(
    const std::string& msi_path);

// The PackageCode (summary information revision number) of `msi_path`.
[[nodiscard]] Result<std::string> ReadPackageCode(const std::string& msi_path);

}  // namespace sluice::msi
