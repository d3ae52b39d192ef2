#pragma once
// Runs an external tool (osslsigncode, msiinfo, ...) without a shell and captures its output.

#include <chrono>
#include <string>
#include <vector>

#include "common/base/error.h"

namespace sluice::msi {

struct ProcessResult {
  int exit_code = 0;  // the exit status, or 128 + signal number when killed by a signal
  std::string out;    // stdout, truncated to kMaxCapture bytes
  std::string err;    // stderr, truncated to kMaxCapture bytes
};

inline constexpr size_t kMaxCapture = 1 << 20;

// Spawns argv[0] (searched in PATH) with argv, stdin from /dev/null, and waits for it to exit
// while reading stdout and stderr. A non-zero exit is reported in ProcessResult, not as an
// error. Errors: kInvalidArgument for an empty argv, kIo if the program cannot be started,
// kTimeout if it is still running after `timeout` (it is then killed and reaped).
// Blocking; thread-safe (no shared state, every descriptor is close-on-exec).
[[nodiscard]] Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                               std::chrono::milliseconds timeout);

}  // namespace sluice::msi
