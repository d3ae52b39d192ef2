#include "common/uv/worker_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "common/uv/loop.h"
#include "tests/common/uv/watchdog.h"

namespace sluice::uv {
namespace {

TEST(WorkerThreadTest, RunsJobsInOrderOffTheLoopAndDeliversOutcomesOnIt) {
  constexpr int kJobs = 20;
  Loop loop;
  auto watchdog = testing::StartWatchdog(loop);
  WorkerThread worker(loop);
  std::vector<int> ran;        // worker thread only, one job at a time
  std::vector<int> delivered;  // loop thread only
  std::atomic<bool> work_on_loop_thread{false};
  bool done_off_loop_thread = false;
  loop.Post([&] {
    for (int i = 0; i < kJobs; ++i) {
      worker.Run<int>(
          [&, i]() -> Result<int> {
            if (loop.InLoopThread()) work_on_loop_thread = true;
            ran.push_back(i);
            if (i % 3 == 0) return Fail(Errc::kIo, "job " + std::to_string(i));
            return i * 10;
          },
          [&, i](Result<int> result) {
            if (!loop.InLoopThread()) done_off_loop_thread = true;
            if (i % 3 == 0) {
              EXPECT_FALSE(result);
              EXPECT_EQ(result.error().code(), Errc::kIo);
            } else {
              EXPECT_EQ(result.value_or(-1), i * 10);
            }
            delivered.push_back(i);
            if (i == kJobs - 1) loop.Stop();
          });
    }
  });
  loop.Run();
  std::vector<int> expected;
  for (int i = 0; i < kJobs; ++i) expected.push_back(i);
  EXPECT_EQ(delivered, expected);
  EXPECT_EQ(ran, expected);
  EXPECT_FALSE(work_on_loop_thread.load());
  EXPECT_FALSE(done_off_loop_thread);
}

// The first job runs until it sees cancelled(); the worker is destroyed while it runs. The
// running job stops, the queued one never runs, and neither outcome is delivered.
TEST(WorkerThreadTest, DestroyingCancelsTheRunningJobDropsQueuedOnesAndTheirOutcomes) {
  Loop loop;
  auto watchdog = testing::StartWatchdog(loop);
  auto worker = std::make_unique<WorkerThread>(loop);
  std::atomic<bool> saw_cancel{false};
  std::atomic<bool> second_ran{false};
  int delivered = 0;  // loop thread only
  loop.Post([&] {
    const std::atomic<bool>& cancel = worker->cancelled();
    EXPECT_FALSE(cancel.load());
    worker->Run<bool>(
        [&loop, &worker, &cancel, &saw_cancel]() -> Result<bool> {
          // Started: ask the loop to destroy the worker, then run until told to stop.
          loop.Post([&loop, &worker] {
            worker.reset();                       // returns only once this job has returned
            loop.Post([&loop] { loop.Stop(); });  // after anything the job posted
          });
          while (!cancel.load()) std::this_thread::yield();
          saw_cancel = true;
          return true;
        },
        [&delivered](Result<bool>) { ++delivered; });
    worker->Run<bool>(
        [&second_ran]() -> Result<bool> {
          second_ran = true;
          return true;
        },
        [&delivered](Result<bool>) { ++delivered; });
  });
  loop.Run();
  EXPECT_EQ(worker, nullptr);
  EXPECT_TRUE(saw_cancel.load());
  EXPECT_FALSE(second_ran.load());
  EXPECT_EQ(delivered, 0);
}

}  // namespace
}  // namespace sluice::uv
