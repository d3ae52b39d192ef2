#pragma once

#include <cstdint>

#include "common/base/error.h"

namespace sluice {

// Raises this process's open-file soft limit to its hard limit. Returns the new soft limit.
// Errors (kIo) say what the limit is and how to raise it (ulimit -n / LimitNOFILE=).
[[nodiscard]] Result<uint64_t> RaiseOpenFileLimit();

}  // namespace sluice
