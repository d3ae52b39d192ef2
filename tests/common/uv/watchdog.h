#pragma once
// A timer that fails the current test and stops the loop if the test has not finished in time,
// so no loop test can hang.

#include <gtest/gtest.h>

#include "common/uv/loop.h"
#include "common/uv/timer.h"

namespace sluice::uv::testing {

inline HandlePtr<Timer> StartWatchdog(Loop& loop, uint64_t timeout_ms = 5000) {
  HandlePtr<Timer> watchdog = Timer::Create(loop);
  watchdog->Start(timeout_ms, 0, [&loop] {
    ADD_FAILURE() << "watchdog: test did not finish within its time bound";
    loop.Stop();
  });
  return watchdog;
}

}  // namespace sluice::uv::testing
