#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "common/uv/loop.h"
#include "common/uv/timer.h"
#include "tests/common/uv/watchdog.h"

namespace sluice::uv {
namespace {

TEST(LoopTest, PostFromManyThreadsRunsEveryTaskInOrderOnTheLoopThread) {
  constexpr int kThreads = 4;
  constexpr int kTasks = 500;
  Loop loop;
  auto watchdog = testing::StartWatchdog(loop);
  std::vector<std::vector<int>> seen(kThreads);
  int total = 0;
  bool all_on_loop_thread = true;
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&, t] {
      for (int i = 0; i < kTasks; ++i) {
        loop.Post([&, t, i] {
          all_on_loop_thread = all_on_loop_thread && loop.InLoopThread();
          seen[t].push_back(i);
          if (++total == kThreads * kTasks) loop.Stop();
        });
      }
    });
  }
  loop.Run();
  for (auto& poster : posters) poster.join();
  EXPECT_EQ(total, kThreads * kTasks);
  EXPECT_TRUE(all_on_loop_thread);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(seen[t].size(), static_cast<size_t>(kTasks)) << t;
    for (int i = 0; i < kTasks; ++i) ASSERT_EQ(seen[t][i], i) << "thread " << t;
  }
}

TEST(TimerTest, OneShotFiresOnce) {
  Loop loop;
  auto watchdog = testing::StartWatchdog(loop);
  auto timer = Timer::Create(loop);
  int fired = 0;
  timer->Start(1, 0, [&] { ++fired; });
  auto done = Timer::Create(loop);
  done->Start(100, 0, [&] { loop.Stop(); });
  loop.Run();
  EXPECT_EQ(fired, 1);
}

TEST(TimerTest, RepeatsUntilStoppedFromItsCallback) {
  Loop loop;
  auto watchdog = testing::StartWatchdog(loop);
  auto timer = Timer::Create(loop);
  int fired = 0;
  timer->Start(1, 1, [&] {
    if (++fired == 5) timer->Stop();
  });
  auto done = Timer::Create(loop);
  done->Start(200, 0, [&] { loop.Stop(); });
  loop.Run();
  EXPECT_EQ(fired, 5);
}

TEST(TimerTest, ReArmFromInsideItsCallbackReplacesTheCallback) {
  Loop loop;
  auto watchdog = testing::StartWatchdog(loop);
  auto timer = Timer::Create(loop);
  std::vector<std::string> calls;
  timer->Start(1, 1, [&] {
    calls.push_back("first");
    timer->Start(1, 0, [&] {
      calls.push_back("second");
      loop.Stop();
    });
  });
  loop.Run();
  EXPECT_EQ(calls, (std::vector<std::string>{"first", "second"}));
}

TEST(TimerTest, StoppedTimerNeverFires) {
  Loop loop;
  auto watchdog = testing::StartWatchdog(loop);
  auto timer = Timer::Create(loop);
  bool fired = false;
  timer->Start(1, 0, [&] { fired = true; });
  timer->Stop();
  auto done = Timer::Create(loop);
  done->Start(50, 0, [&] { loop.Stop(); });
  loop.Run();
  EXPECT_FALSE(fired);
}

TEST(TimerTest, ClosingATimerFromItsOwnCallbackIsSafe) {
  Loop loop;
  auto watchdog = testing::StartWatchdog(loop);
  auto timer = Timer::Create(loop);
  int fired = 0;
  timer->Start(1, 1, [&] {
    ++fired;
    timer.reset();  // closes; no further callbacks
  });
  auto done = Timer::Create(loop);
  done->Start(50, 0, [&] { loop.Stop(); });
  loop.Run();
  EXPECT_EQ(fired, 1);
}

TEST(LoopTest, DestructorRunsTasksPostedByPostedTasks) {
  int ran = 0;
  {
    Loop loop;
    loop.Post([&] {
      ++ran;
      loop.Defer([&] {
        ++ran;
        loop.Defer([&] { ++ran; });
      });
    });
  }
  EXPECT_EQ(ran, 3);
}

}  // namespace
}  // namespace sluice::uv
