#include "client/update/health_check.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <charconv>
#include <thread>

#include "common/base/file_util.h"

namespace sluice::client {
namespace {

using std::chrono::milliseconds;

TEST(HealthCheckTest, ZeroExitIsHealthy) {
  EXPECT_TRUE(
      RunHealthCheck({.argv = {"/bin/sh", "-c", "exit 0"}, .timeout = milliseconds(10'000)}));
}

TEST(HealthCheckTest, NonZeroExitQuotesTheOutput) {
  auto result = RunHealthCheck({.argv = {"/bin/sh", "-c", "echo 'cannot open\tlibfoo.so'; exit 3"},
                                .timeout = milliseconds(10'000)});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(), "health check exited with status 3: cannot open libfoo.so");
}

TEST(HealthCheckTest, OutputIsCapped) {
  auto result = RunHealthCheck({.argv = {"/bin/sh", "-c", "yes | head -c 100000; exit 1"},
                                .timeout = milliseconds(10'000),
                                .max_output_bytes = 10});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(), "health check exited with status 1: y y y y y");
}

TEST(HealthCheckTest, DeathBySignalIsUnhealthy) {
  auto result =
      RunHealthCheck({.argv = {"/bin/sh", "-c", "kill -9 $$"}, .timeout = milliseconds(10'000)});
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("signal 9"), std::string::npos);
}

TEST(HealthCheckTest, HangingCheckIsKilledAfterTheTimeout) {
  auto result = RunHealthCheck(
      {.argv = {"/bin/sh", "-c", "echo starting; sleep 60"}, .timeout = milliseconds(200)});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::kTimeout);
  EXPECT_EQ(result.error().message(), "health check timed out after 200 ms: starting");
}

TEST(HealthCheckTest, HelpersLeftBehindAreKilled) {
  auto dir = MakeTempDir("sluice-health-");
  ASSERT_TRUE(dir);
  const std::string pid_file = *dir + "/helper.pid";
  ASSERT_TRUE(RunHealthCheck(
      {.argv = {"/bin/sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $! > '" + pid_file + "'"},
       .timeout = milliseconds(10'000)}));
  auto text = ReadFile(pid_file);
  ASSERT_TRUE(text);
  int pid = 0;
  std::from_chars(text->data(), text->data() + text->size(), pid);
  ASSERT_GT(pid, 0);
  // The orphaned helper is reaped by init once killed; allow it a bounded moment.
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = ::kill(pid, 0) != 0;
    if (!gone) std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(gone) << "helper pid " << pid << " survived the health check";
  EXPECT_TRUE(RemoveAll(*dir));
}

TEST(HealthCheckTest, MissingProgramCannotStart) {
  auto result = RunHealthCheck(
      {.argv = {"/nonexistent/sluice-client", "--self-test"}, .timeout = milliseconds(10'000)});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::kIo);
  EXPECT_EQ(RunHealthCheck({.argv = {}, .timeout = milliseconds(1)}).error().code(),
            Errc::kInvalidArgument);
}

}  // namespace
}  // namespace sluice::client
