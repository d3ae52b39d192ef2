#include "tests/support/process.h"

#include <stdexcept>

namespace sluice::testing {
namespace {

Child Start(std::vector<std::string> argv, const std::string& log_path) {
  auto child = Child::Spawn({.argv = std::move(argv)}, log_path);
  if (!child) throw std::runtime_error(child.error().ToString());
  return std::move(*child);
}

}  // namespace

std::string BinaryPath(const std::string& name) { return std::string(SLUICE_BIN_DIR) + "/" + name; }

Process::Process(std::vector<std::string> argv, const std::string& log_path)
    : child_(Start(std::move(argv), log_path)) {}

RunResult RunCommand(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  auto ran = RunProcess({.argv = std::move(argv)}, timeout,
                        {.merge_stderr = true, .max_bytes = 256 << 20});
  if (!ran) return {.exit_code = -1, .output = ran.error().ToString()};
  return {.exit_code = ran->timed_out ? -1 : ran->exit_code, .output = std::move(ran->out)};
}

}  // namespace sluice::testing
