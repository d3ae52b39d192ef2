#pragma once
// The per-kind template MSI around the site's Windows client: wixl compiles it from WiX source
// built into the binary, so a server needs no template files beside it, and every installer of
// a kind and client version is a patched copy of one template (msi::BuildInstaller).
//
// What a template installs (docs/admin.md, "What an installer installs"): the client as
// C:\Program Files\Sluice\<kind>\sluice-<kind>.exe (64-bit), and the KEY_INFO property as the
// string value KeyInfo of HKLM\SOFTWARE\Sluice\<kind>. UpgradeCode is fixed per kind, which is
// what lets a newer package replace an older one without an uninstall.
//
// Threads: blocking (file I/O and a wixl process); call it off the event loop. Thread-safe.

#include <string>
#include <string_view>

#include "common/base/error.h"

namespace sluice::msi {

// Bumped whenever the WiX source changes, so templates cached under an older source are not
// reused (it is part of TemplateFileName).
inline constexpr int kTemplateRevision = 2;

// The client's file name inside the MSI and on the installed machine: "sluice-<kind>.exe".
std::string ClientFileName(std::string_view kind);

// "sluice-<kind>-<client_sha256>-r<kTemplateRevision>.msi": the name a template built around
// that client is cached under.
std::string TemplateFileName(std::string_view kind, std::string_view client_sha256);

// Compiles the kind's template around `client_file` and writes it to `out_path` atomically
// (temp file beside it, fsync, rename; nothing is left behind on failure). The client is first
// copied into a private staging directory next to `out_path`, and the copy's SHA-256 must equal
// `client_sha256` (lowercase hex): the bytes embedded are the bytes checked.
// Errors: kInvalidArgument (unknown kind), kNotFound (client missing), kCorrupt (digest
// mismatch: the package file changed since it was added), kIo (copying, wixl missing or
// failing, renaming), kTimeout (wixl ran longer than ten minutes).
[[nodiscard]] Status BuildTemplate(std::string_view kind, const std::string& client_file,
                                   std::string_view client_sha256, const std::string& out_path);

}  // namespace sluice::msi
