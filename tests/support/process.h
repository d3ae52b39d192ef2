#pragma once
// Child processes for integration tests: the real sluiced, sluicectl and sluice-client.

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/base/subprocess.h"

namespace sluice::testing {

// Path of a built binary ("sluiced" -> <build>/bin/sluiced).
std::string BinaryPath(const std::string& name);

// A started child (sluice::Child) that throws if it cannot start: a test cannot go on then.
class Process {
 public:
  // Starts argv[0] with stdout and stderr appended to `log_path` (or /dev/null if empty).
  Process(std::vector<std::string> argv, const std::string& log_path);

  pid_t pid() const { return child_.pid(); }
  bool running() { return child_.running(); }
  void Signal(int signum) { child_.Signal(signum); }
  // Waits for exit; nullopt on timeout. Returns the exit code (128+signal if killed).
  std::optional<int> Wait(std::chrono::milliseconds timeout) { return child_.Wait(timeout); }

 private:
  Child child_;
};

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr, interleaved
};
// Runs to completion (killed after `timeout`, exit code -1) and captures its output.
RunResult RunCommand(std::vector<std::string> argv,
              std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Polls `condition` every 20 ms until it holds or `timeout` passes.
template <typename F>
bool WaitUntil(F condition, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    ::usleep(20'000);
  }
  return condition();
}

}  // namespace sluice::testing
