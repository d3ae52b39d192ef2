#pragma once
// Runs a newly installed payload's health check as a child process, bounded by a timeout.

#include <chrono>
#include <string>
#include <vector>

#include "common/base/error.h"

namespace sluice::client {

struct HealthCheckOptions {
  // Program and arguments; argv[0] is looked up in PATH unless it contains '/'.
  std::vector<std::string> argv;
  std::chrono::milliseconds timeout{30'000};
  // How much of the child's combined stdout/stderr to quote in an error message.
  size_t max_output_bytes = 512;
};

// Runs the check and waits at most `timeout` for it (blocking the calling thread). The child
// gets stdin from /dev/null, default signal dispositions and its own process group; its stdout
// and stderr are captured. When the check ends or times out, its whole process group is killed
// so no stray helper survives it.
// Success iff the child exited with status 0. Errors: kInvalidArgument for an empty argv,
// kIo if it could not be started, kTimeout if it was killed after the timeout, kInternal for a
// non-zero exit or a death by signal; messages quote the start of the child's output.
[[nodiscard]] Status RunHealthCheck(const HealthCheckOptions& options);

}  // namespace sluice::client
