#include "server/sched/rollout_gate.h"

#include <gtest/gtest.h>

#include "common/base/clock.h"
#include "server/sched/scheduler.h"

namespace sluice::sched {
namespace {

GateAmount Count(int64_t n) { return {.value = n}; }
GateAmount Percent(int64_t p) { return {.value = p, .percent = true}; }

TEST(GateAmount, ParsesCountsAndPercentagesAndRefusesTheRest) {
  EXPECT_EQ(*ParseGateAmount("5"), Count(5));
  EXPECT_EQ(*ParseGateAmount("20%"), Percent(20));
  EXPECT_EQ(*ParseGateAmount("100%"), Percent(100));
  EXPECT_TRUE(ParseGateAmount("0")->none());
  EXPECT_TRUE(ParseGateAmount("")->none());
  for (const char* bad : {"0%", "101%", "-1", "abc", "5 %", "%", "1.5"}) {
    auto parsed = ParseGateAmount(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code(), Errc::kInvalidArgument);
  }
  EXPECT_EQ(Percent(20).ToString(), "20%");
  EXPECT_EQ(Count(3).ToString(), "3");
  EXPECT_EQ(Count(0).ToString(), "");
}

TEST(GateAmount, WaveSizeRoundsPercentagesUpAndIsAtLeastOne) {
  EXPECT_EQ(WaveSize(Count(5), 1000), 5);
  EXPECT_EQ(WaveSize(Percent(10), 25), 3);   // 2.5 -> 3
  EXPECT_EQ(WaveSize(Percent(10), 30), 3);   // exact
  EXPECT_EQ(WaveSize(Percent(1), 1), 1);     // 0.01 -> 1
  EXPECT_EQ(WaveSize(Percent(10), 0), 0);    // nothing outdated: no wave
  EXPECT_EQ(WaveSize(Count(0), 1000), 0);
}

TEST(RolloutGate, WaveGrantsItsSizeThenWaitsForEveryOutcome) {
  RolloutGate gate;
  gate.Start("2.0.0", 3);
  EXPECT_EQ(gate.GrantBudget(), 3);
  gate.OnGranted();
  gate.OnGranted();
  gate.OnGranted();
  EXPECT_EQ(gate.GrantBudget(), 0);
  gate.OnExpired();  // a wave grant comes back; its client is in line again
  EXPECT_EQ(gate.GrantBudget(), 1);
  gate.OnGranted();
  EXPECT_FALSE(gate.OnEnded(false, Count(2)));
  EXPECT_FALSE(gate.OnEnded(true, Count(2)));
  EXPECT_EQ(gate.GrantBudget(), 0);  // one outcome still missing
  EXPECT_FALSE(gate.OnEnded(false, Count(2)));
  EXPECT_EQ(gate.state().phase, RolloutGate::Phase::kOpen);
  EXPECT_EQ(gate.GrantBudget(), std::nullopt);
}

TEST(RolloutGate, CountThresholdHaltsAtExactlyThatManyFailures) {
  RolloutGate gate;
  gate.Start("2.0.0", 0);
  EXPECT_FALSE(gate.OnEnded(true, Count(2)));   // 1 failure
  EXPECT_FALSE(gate.OnEnded(false, Count(2)));
  EXPECT_TRUE(gate.OnEnded(true, Count(2)));    // 2 failures: >= 2 halts
  EXPECT_TRUE(gate.halted());
  EXPECT_EQ(gate.GrantBudget(), 0);
  EXPECT_EQ(gate.state().halt_reason, "2 of 3 ended upgrades failed (threshold 2)");
  EXPECT_FALSE(gate.OnEnded(true, Count(2)));   // running upgrades finish; nothing changes
  EXPECT_EQ(gate.state().ended, 3);
  gate.Resume();
  EXPECT_EQ(gate.GrantBudget(), std::nullopt);
  EXPECT_EQ(gate.state().failures, 0);
  EXPECT_FALSE(gate.OnEnded(true, Count(2)));  // counts started over
}

TEST(RolloutGate, PercentThresholdWaitsForTheWaveThenHaltsAtTheBoundary) {
  RolloutGate gate;
  gate.Start("2.0.0", 10);
  // 1 failure in the first upgrade is 100 %, but the sample is the wave (10): no halt yet.
  EXPECT_FALSE(gate.OnEnded(true, Percent(20)));
  for (int i = 0; i < 8; ++i) EXPECT_FALSE(gate.OnEnded(false, Percent(20))) << i;
  // 10th outcome, a failure: 2 of 10 = 20 % >= 20 % halts.
  EXPECT_TRUE(gate.OnEnded(true, Percent(20)));

  RolloutGate below;
  below.Start("2.0.0", 10);
  EXPECT_FALSE(below.OnEnded(true, Percent(20)));
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(below.OnEnded(false, Percent(20))) << i;
  EXPECT_EQ(below.state().phase, RolloutGate::Phase::kOpen);  // 1 of 10 = 10 % < 20 %
  // After the wave the rule covers the whole rollout: 3 of 12 = 25 % halts.
  EXPECT_FALSE(below.OnEnded(true, Percent(20)));  // 2 of 11 = 18.2 %
  EXPECT_TRUE(below.OnEnded(true, Percent(20)));   // 3 of 12 = 25 %
}

TEST(RolloutGate, PercentWithoutAWaveNeedsTenOutcomes) {
  RolloutGate gate;
  gate.Start("2.0.0", 0);
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(gate.OnEnded(true, Percent(50))) << i;
  EXPECT_TRUE(gate.OnEnded(true, Percent(50)));
}

TEST(RolloutGate, EncodesAndDecodesEveryField) {
  RolloutGate gate;
  gate.Start("2.0.0", 4);
  gate.OnGranted();
  gate.OnEnded(true, Count(1));
  ASSERT_TRUE(gate.halted());
  auto decoded = RolloutGate::Decode(gate.Encode());
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(decoded->state(), gate.state());
  for (const char* bad : {"", "2.0.0 wave 1 2", "2.0.0 sideways 1 0 0 0 ", "2.0.0 open x 0 0 0 "}) {
    auto broken = RolloutGate::Decode(bad);
    ASSERT_FALSE(broken) << bad;
    EXPECT_EQ(broken.error().code(), Errc::kCorrupt);
  }
}

TEST(SchedulerGrantBudget, GrantsNoMoreThanTheBudgetAndResumesWhenLifted) {
  FakeClock clock;
  SchedulerOptions options;
  options.default_limit = 10;
  Scheduler sched(clock, options);
  sched.SetGrantBudget("k", 2);
  for (std::string c : {"a", "b", "c", "d"}) {
    clock.Advance(1);
    sched.Request(c, "k", "2.0", true);
  }
  EXPECT_EQ(sched.Running("k"), 2);
  EXPECT_EQ(sched.GrantBudget("k"), 0);
  EXPECT_EQ(sched.PresentWaiting("k"), 2u);
  ASSERT_TRUE(sched.Finish(sched.FindLeaseByClient("a")->id));
  EXPECT_TRUE(sched.TakeGrants().empty());  // a free slot, but no budget
  sched.SetGrantBudget("k", std::nullopt);
  std::vector<Lease> grants = sched.TakeGrants();
  ASSERT_EQ(grants.size(), 2u);
  EXPECT_EQ(grants[0].client_id, "c");
  EXPECT_EQ(grants[1].client_id, "d");
}

}  // namespace
}  // namespace sluice::sched
