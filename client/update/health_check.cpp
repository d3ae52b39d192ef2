#include "client/update/health_check.h"

#include "common/base/subprocess.h"

namespace sluice::client {
namespace {

// The child's output as one printable line for an error message.
std::string Quote(const std::string& output) {
  std::string line;
  for (char c : output) {
    const auto u = static_cast<unsigned char>(c);
    line += (u == '\n' || u == '\r' || u == '\t') ? ' ' : (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line.empty() ? line : ": " + line;
}

}  // namespace

Status RunHealthCheck(const HealthCheckOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return Fail(Errc::kInvalidArgument, "health check command is empty");
  }
  auto ran =
      RunProcess({.argv = options.argv, .new_process_group = true, .reset_signals = true},
                 options.timeout, {.merge_stderr = true, .max_bytes = options.max_output_bytes});
  if (!ran) return Fail(ran.error().code(), "health check: " + ran.error().message());
  if (ran->timed_out) {
    return Fail(Errc::kTimeout, "health check timed out after " +
                                    std::to_string(options.timeout.count()) + " ms" +
                                    Quote(ran->out));
  }
  if (ran->exit_code == 0) return {};
  if (ran->exit_code < 0) {
    return Fail(Errc::kInternal, "health check exit status was lost (child reaped elsewhere)");
  }
  if (ran->exit_code > 128) {
    return Fail(Errc::kInternal, "health check killed by signal " +
                                     std::to_string(ran->exit_code - 128) + Quote(ran->out));
  }
  return Fail(Errc::kInternal, "health check exited with status " + std::to_string(ran->exit_code) +
                                   Quote(ran->out));
}

}  // namespace sluice::client
