#pragma once
// Maps a site version to a Windows Installer ProductVersion.
//
// Windows Installer compares only major.minor.build, with major and minor at most 255 and
// build at most 65535; a fourth field is ignored by upgrade detection. A site version that
// cannot be expressed within those limits would produce installers that do not replace each
// other, so it is refused rather than silently truncated.

#include <string>
#include <string_view>

#include "common/base/error.h"

namespace sluice::msi {

// "A.B.C" or "A.B.C.D" (decimal digits only) -> "A.B.C" without leading zeros.
// kInvalidArgument, with the reason, when the text is malformed, A or B exceeds 255, C exceeds
// 65535, or D is non-zero (Windows Installer would ignore it, so 24.3.1.5 would not upgrade
// 24.3.1.4). Pure function; thread-safe.
[[nodiscard]] Result<std::string> MsiProductVersion(std::string_view site_version);

}  // namespace sluice::msi
