#pragma once
// Passwords and passphrases on sluicectl's command line come from files (never arguments,
// which other users can see in the process list): the first line of the file, "-" for stdin.

#include <string>

#include "common/base/error.h"

namespace sluice::ctl {

// The secret in `path` without its trailing newline. Errors: the file's, kInvalidArgument when
// it is empty.
[[nodiscard]] Result<std::string> ReadSecretFile(const std::string& path);
// ReadSecretFile, or "" when no file is given.
[[nodiscard]] Result<std::string> OptionalSecretFile(const std::string& path);

}  // namespace sluice::ctl
