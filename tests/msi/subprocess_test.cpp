#include "msi/subprocess.h"

#include <gtest/gtest.h>

namespace sluice::msi {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RunProcessTest, CapturesStdoutStderrAndExitCode) {
  auto result = RunProcess({"sh", "-c", "echo out; echo err >&2; exit 3"}, seconds(30));
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(result->out, "out\n");
  EXPECT_EQ(result->err, "err\n");
}

TEST(RunProcessTest, PassesArgumentsWithoutAShell) {
  auto result = RunProcess({"printf", "%s|", "a b", "$HOME", ";"}, seconds(30));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->out, "a b|$HOME|;|");
}

TEST(RunProcessTest, MissingProgramIsAnIoError) {
  auto result = RunProcess({"sluice-no-such-program"}, seconds(30));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), Errc::kIo);
}

TEST(RunProcessTest, KillsAProgramThatOutlivesItsBound) {
  auto result = RunProcess({"sleep", "30"}, milliseconds(200));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), Errc::kTimeout);
}

TEST(RunProcessTest, EmptyArgvIsRefused) {
  auto result = RunProcess({}, seconds(1));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace sluice::msi
