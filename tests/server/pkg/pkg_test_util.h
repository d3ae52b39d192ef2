#pragma once
// Test helpers for the package store tests: package files in temp dirs, directory listings and
// a bounded run of the built sluicectl binary.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/base/file_util.h"

namespace sluice::server::testing {

// `size` bytes of deterministic, non-repeating-looking content (seeded by `seed`).
inline std::string PackageBytes(size_t size, uint32_t seed) {
  std::string out(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xff);
  }
  return out;
}

// Writes `content` to `path`; fails the test on error.
inline std::string WriteTestFile(const std::string& path, const std::string& content) {
  auto written = WriteFileAtomic(path, content);
  EXPECT_TRUE(written) << written.error().ToString();
  return path;
}

// Every path under `dir`, relative to it (empty if `dir` does not exist).
inline std::set<std::string> ListTree(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    names.insert(std::filesystem::relative(it->path(), dir).string());
  }
  return names;
}

struct CtlOutcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs SLUICE_BIN_DIR/sluicectl with `args` in working directory `cwd`, waiting at most 30 s.
// Its stdout and stderr go through files in `scratch_dir`.
inline CtlOutcome RunCtl(std::vector<std::string> args, const std::string& cwd,
                         const std::string& scratch_dir) {
  static const char* const kCtl = SLUICE_BIN_DIR "/sluicectl";
  args.insert(args.begin(), kCtl);
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const std::string out_path = scratch_dir + "/ctl.stdout";
  const std::string err_path = scratch_dir + "/ctl.stderr";
  CtlOutcome outcome;
  pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(127);
    if (::chdir(cwd.c_str()) != 0) ::_exit(127);
    ::execv(kCtl, argv.data());
    ::_exit(127);
  }
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return outcome;
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "sluicectl did not exit";
      return outcome;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  outcome.out = ReadFile(out_path).value_or("");
  outcome.err = ReadFile(err_path).value_or("");
  return outcome;
}

}  // namespace sluice::server::testing
