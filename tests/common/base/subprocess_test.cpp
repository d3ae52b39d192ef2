#include "common/base/subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"

namespace sluice {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::TempDir;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(RunProcessTest, CapturesStdoutStderrAndExitCode) {
  auto result = RunProcess({.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"}}, seconds(30));
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_FALSE(result->timed_out);
  EXPECT_EQ(result->out, "out\n");
  EXPECT_EQ(result->err, "err\n");
}

TEST(RunProcessTest, MergesStderrInOrderWhenAsked) {
  auto result = RunProcess({.argv = {"sh", "-c", "echo one; echo two >&2; echo three"}},
                           seconds(30), {.merge_stderr = true});
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->out, "one\ntwo\nthree\n");
  EXPECT_EQ(result->err, "");
}

TEST(RunProcessTest, PassesArgumentsWithoutAShell) {
  auto result = RunProcess({.argv = {"printf", "%s|", "a b", "$HOME", ";"}}, seconds(30));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->out, "a b|$HOME|;|");
}

TEST(RunProcessTest, RunsInTheGivenWorkingDirectory) {
  TempDir dir;
  auto result = RunProcess({.argv = {"pwd", "-P"}, .working_dir = dir.path()}, seconds(30));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->out, std::filesystem::canonical(dir.path()).string() + "\n");
}

TEST(RunProcessTest, CapsWhatItKeepsButReadsEverything) {
  // 1 MiB written, 100 bytes kept: the child must not block on a full pipe.
  auto result =
      RunProcess({.argv = {"head", "-c", "1048576", "/dev/zero"}}, seconds(30), {.max_bytes = 100});
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_EQ(result->out.size(), 100u);
}

TEST(RunProcessTest, MissingProgramIsAnIoErrorNamingIt) {
  auto result = RunProcess({.argv = {"sluice-no-such-program"}}, seconds(30));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), Errc::kIo);
  EXPECT_NE(result.error().message().find("sluice-no-such-program"), std::string::npos);
}

TEST(RunProcessTest, KillsAProgramThatOutlivesItsBound) {
  auto result =
      RunProcess({.argv = {"sh", "-c", "echo started; exec sleep 30"}}, milliseconds(300));
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->timed_out);
  EXPECT_EQ(result->exit_code, 128 + SIGKILL);
  EXPECT_EQ(result->out, "started\n");
}

TEST(RunProcessTest, AGroupLeaderTakesWhatItLeftBehind) {
  TempDir dir;
  const std::string pid_file = dir / "helper.pid";
  // The child starts a helper that would outlive it, holding the output pipe open.
  auto result = RunProcess({.argv = {"sh", "-c", "sleep 30 & echo $! > " + pid_file + "; exit 0"},
                            .new_process_group = true},
                           seconds(30));
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->timed_out);
  EXPECT_EQ(result->exit_code, 0);
  const pid_t helper = std::stoi(Slurp(pid_file));
  // Killed with the group; gone once its parent (init) reaps it.
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = ::kill(helper, 0) != 0 ||
           Slurp("/proc/" + std::to_string(helper) + "/stat").find(") Z") != std::string::npos;
    if (!gone) ::usleep(10'000);
  }
  EXPECT_TRUE(gone) << "helper " << helper << " survived";
}

TEST(RunProcessTest, EmptyArgvIsRefused) {
  auto result = RunProcess({}, seconds(1));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), Errc::kInvalidArgument);
}

TEST(ChildTest, AppendsOutputToTheFileAndReportsTheExit) {
  TempDir dir;
  const std::string log = dir / "out.log";
  { std::ofstream(log) << "before\n"; }
  auto child = Child::Spawn({.argv = {"sh", "-c", "echo out; echo err >&2; exit 7"}}, log);
  ASSERT_TRUE(child.has_value()) << child.error().ToString();
  EXPECT_EQ(child->Wait(seconds(30)), 7);
  EXPECT_FALSE(child->running());
  EXPECT_EQ(child->exit_code(), 7);
  EXPECT_EQ(Slurp(log), "before\nout\nerr\n");
}

TEST(ChildTest, SignalsWaitsAndKills) {
  auto child = Child::Spawn({.argv = {"sleep", "30"}});
  ASSERT_TRUE(child.has_value());
  EXPECT_TRUE(child->running());
  EXPECT_EQ(child->Wait(milliseconds(50)), std::nullopt);
  child->Signal(SIGTERM);
  EXPECT_EQ(child->Wait(seconds(30)), 128 + SIGTERM);
  // Once reaped, signalling and killing are no-ops that keep the exit code.
  child->Signal(SIGKILL);
  EXPECT_EQ(child->Kill(), 128 + SIGTERM);
}

TEST(ChildTest, DestroyingARunningChildKillsAndReapsIt) {
  pid_t pid = -1;
  {
    auto child = Child::Spawn({.argv = {"sleep", "30"}});
    ASSERT_TRUE(child.has_value());
    pid = child->pid();
    Child moved = std::move(*child);  // the moved-from one owns nothing
    EXPECT_EQ(moved.pid(), pid);
  }
  // Reaped: the pid is no longer our child.
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
}

TEST(ChildTest, AMissingProgramIsAnError) {
  auto child = Child::Spawn({.argv = {"/nonexistent/sluice-tool"}});
  ASSERT_FALSE(child.has_value());
  EXPECT_EQ(child.error().code(), Errc::kIo);
}

}  // namespace
}  // namespace sluice
