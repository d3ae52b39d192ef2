#include "server/sched/adaptive_limit.h"

#include <gtest/gtest.h>

namespace sluice::sched {
namespace {

constexpr AdaptiveRange kRange{.min = 4, .max = 100, .checkin_p99_target_ms = 500};

LoadWindow Calm() {
  return {
      .checkin_p99_ms = 20, .checkins = 50, .loop_lag_ms = 5, .loop_cpu = 0.3, .bandwidth_use = {}};
}

ScopeLoad Full(int limit, size_t waiting = 500) {
  return {.limit = limit, .running = limit, .waiting = waiting};
}

TEST(AdaptiveLimit, ClampsIntoItsRangeFirst) {
  AdaptiveLimit adaptive(kRange);
  EXPECT_EQ(adaptive.Next(Full(200), Calm())->limit, 100);
  EXPECT_EQ(adaptive.Next(Full(1), Calm())->limit, 4);
}

TEST(AdaptiveLimit, DoublesUntilThePressureThenGrowsByATenth) {
  AdaptiveLimit adaptive(kRange);
  auto up = adaptive.Next(Full(8), Calm());
  ASSERT_TRUE(up);
  EXPECT_EQ(up->limit, 16);
  EXPECT_NE(up->reason.find("all 8 slots busy, 500 waiting"), std::string::npos) << up->reason;
  EXPECT_EQ(adaptive.Next(Full(16), Calm())->limit, 32);

  LoadWindow slow = Calm();
  slow.checkin_p99_ms = 501;
  auto down = adaptive.Next(Full(18), slow);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->limit, 13);  // floor(18 * 0.75)
  EXPECT_EQ(down->reason, "check-in p99 501 ms > 500 ms target");
  EXPECT_FALSE(adaptive.growing_fast());
  // Running came down to the new limit; growth is now a tenth (at least 1).
  EXPECT_EQ(adaptive.Next(Full(13), Calm())->limit, 14);
  EXPECT_EQ(adaptive.Next(Full(40), Calm())->limit, 44);
}

TEST(AdaptiveLimit, AtTheTargetIsNotPressure) {
  AdaptiveLimit adaptive(kRange);
  LoadWindow at = Calm();
  at.checkin_p99_ms = 500;
  at.loop_lag_ms = 500;
  at.loop_cpu = 0.9;
  EXPECT_EQ(adaptive.Next(Full(10), at)->limit, 20);
}

TEST(AdaptiveLimit, EveryPressureSignalLowersAndNamesItself) {
  LoadWindow lag = Calm();
  lag.loop_lag_ms = 800;
  LoadWindow cpu = Calm();
  cpu.loop_cpu = 0.95;
  LoadWindow no_checkins = Calm();  // a p99 over no check-ins is no signal
  no_checkins.checkins = 0;
  no_checkins.checkin_p99_ms = 10'000;
  {
    AdaptiveLimit adaptive(kRange);
    EXPECT_EQ(adaptive.Next(Full(20), lag)->reason,
              "event-loop lag 800 ms > 500 ms check-in target");
  }
  {
    AdaptiveLimit adaptive(kRange);
    EXPECT_EQ(adaptive.Next(Full(20), cpu)->reason, "loop CPU 95 % > 90 %");
  }
  {
    AdaptiveLimit adaptive(kRange);
    EXPECT_EQ(adaptive.Next(Full(20), no_checkins)->limit, 40);
  }
}

TEST(AdaptiveLimit, WaitsForALoweringToTakeEffectBeforeLoweringAgain) {
  AdaptiveLimit adaptive(kRange);
  LoadWindow slow = Calm();
  slow.checkin_p99_ms = 2000;
  EXPECT_EQ(adaptive.Next(Full(40), slow)->limit, 30);
  // 40 upgrades still run (lowering never interrupts one): no second cut yet.
  EXPECT_FALSE(adaptive.Next({.limit = 30, .running = 40, .waiting = 100}, slow));
  EXPECT_FALSE(adaptive.Next({.limit = 30, .running = 31, .waiting = 100}, slow));
  EXPECT_EQ(adaptive.Next({.limit = 30, .running = 30, .waiting = 100}, slow)->limit, 22);
}

TEST(AdaptiveLimit, NeverLeavesItsRange) {
  AdaptiveLimit adaptive(kRange);
  LoadWindow slow = Calm();
  slow.loop_cpu = 1.0;
  EXPECT_EQ(adaptive.Next(Full(5), slow)->limit, 4);
  EXPECT_FALSE(adaptive.Next(Full(4), slow));  // at min: nothing lower
  AdaptiveLimit growing(kRange);
  EXPECT_EQ(growing.Next(Full(60), Calm())->limit, 100);
  EXPECT_FALSE(growing.Next(Full(100), Calm()));
}

TEST(AdaptiveLimit, HoldsWhenTheBandwidthCapIsUsedOrNothingWaits) {
  AdaptiveLimit adaptive(kRange);
  LoadWindow saturated = Calm();
  saturated.bandwidth_use = 0.97;
  EXPECT_FALSE(adaptive.Next(Full(30), saturated));
  LoadWindow headroom = Calm();
  headroom.bandwidth_use = 0.96;
  auto up = adaptive.Next(Full(30), headroom);
  ASSERT_TRUE(up);
  EXPECT_NE(up->reason.find("bandwidth 96 % used"), std::string::npos) << up->reason;
  EXPECT_FALSE(adaptive.Next(Full(45, 0), Calm()));                                   // no demand
  EXPECT_FALSE(adaptive.Next({.limit = 45, .running = 30, .waiting = 200}, Calm()));  // slots free
}

}  // namespace
}  // namespace sluice::sched
