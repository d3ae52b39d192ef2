#pragma once
// Test helpers for the package store tests: package files in temp dirs, directory listings and
// a bounded run of the built sluicectl binary.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "common/base/file_util.h"
#include "common/base/subprocess.h"

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

using CtlOutcome = ProcessResult;

// Runs SLUICE_BIN_DIR/sluicectl with `args` in working directory `cwd`, waiting at most 30 s;
// stdout and stderr are captured apart.
inline CtlOutcome RunCtl(std::vector<std::string> args, const std::string& cwd) {
  args.insert(args.begin(), SLUICE_BIN_DIR "/sluicectl");
  auto ran = RunProcess({.argv = std::move(args), .working_dir = cwd}, std::chrono::seconds(30),
                        {.max_bytes = 256 << 20});  // whole: tests parse large listings
  if (!ran) {
    ADD_FAILURE() << ran.error().ToString();
    return {};
  }
  if (ran->timed_out) ADD_FAILURE() << "sluicectl did not exit within 30 s";
  return *ran;
}

}  // namespace sluice::server::testing
