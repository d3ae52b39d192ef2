#include "server/sched/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace sluice::sched {
namespace {

constexpr std::string_view kJump = "jump-client";
constexpr std::string_view kJumpoint = "jumpoint";

class SchedulerTest : public ::testing::Test {
 protected:
  // Passive waiters are sent away, never held (tests of holding set max_hold_ms themselves).
  SchedulerOptions Options() {
    SchedulerOptions options;
    options.jitter_seed = 42;
    options.retry.max_hold_ms = 0;
    return options;
  }

  Lease MustGrant(Scheduler& sched, std::string_view client, bool active = true) {
    Decision d = sched.Request(client, kJump, "2.0", active);
    EXPECT_TRUE(std::holds_alternative<Granted>(d)) << client;
    return std::holds_alternative<Granted>(d) ? std::get<Granted>(d).lease : Lease{};
  }
  Queued MustQueue(Scheduler& sched, std::string_view client, bool active = true) {
    Decision d = sched.Request(client, kJump, "2.0", active);
    EXPECT_TRUE(std::holds_alternative<Queued>(d)) << client;
    return std::holds_alternative<Queued>(d) ? std::get<Queued>(d) : Queued{999, -1};
  }
  static std::vector<std::string> Clients(const std::vector<Lease>& leases) {
    std::vector<std::string> out;
    for (const Lease& l : leases) out.push_back(l.client_id);
    return out;
  }

  FakeClock clock_;
};

TEST_F(SchedulerTest, GrantsUpToTheLimitThenQueuesInOrder) {
  Scheduler sched(clock_, Options());
  sched.SetLimit(kJump, 2);
  Lease a = MustGrant(sched, "a");
  Lease b = MustGrant(sched, "b");
  EXPECT_LT(a.id, b.id);
  EXPECT_EQ(a.expires_ms, clock_.WallMs() + 120'000);
  Queued c = MustQueue(sched, "c", /*active=*/true);
  EXPECT_EQ(c.position, 0u);
  EXPECT_EQ(c.retry_after_ms, 0);
  clock_.Advance(1);
  Queued d = MustQueue(sched, "d", /*active=*/false);
  EXPECT_EQ(d.position, 1u);
  EXPECT_GE(d.retry_after_ms, 5'000);
  EXPECT_EQ(sched.Running(kJump), 2);
  EXPECT_EQ(sched.Waiting(kJump), 2u);
  EXPECT_EQ(sched.PresentWaiting(kJump), 1u);
  // Scopes are independent.
  EXPECT_EQ(sched.Limit(kJumpoint), 1);
  EXPECT_TRUE(std::holds_alternative<Granted>(sched.Request("j", kJumpoint, "2.0", true)));
}

TEST_F(SchedulerTest, RaisingTheLimitGrantsPresentWaitersAtOnce) {
  Scheduler sched(clock_, Options());
  MustGrant(sched, "a");
  for (std::string c : {"b", "c", "d"}) {
    clock_.Advance(10);
    MustQueue(sched, c);
  }
  clock_.Advance(10);
  MustQueue(sched, "passive", /*active=*/false);
  EXPECT_TRUE(sched.TakeGrants().empty());

  sched.SetLimit(kJump, 3);
  EXPECT_EQ(Clients(sched.TakeGrants()), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(sched.Running(kJump), 3);
  sched.SetLimit(kJump, 10);  // only present waiters are admitted: the slot stays for "passive"
  EXPECT_EQ(Clients(sched.TakeGrants()), (std::vector<std::string>{"d"}));
  EXPECT_EQ(sched.Waiting(kJump), 1u);
  EXPECT_TRUE(std::holds_alternative<Granted>(sched.Request("passive", kJump, "2.0", false)));
  EXPECT_TRUE(sched.TakeGrants().empty());  // the requester's own grant is returned, not pushed
}

TEST_F(SchedulerTest, LoweringTheLimitKeepsLeasesAndStopsGrantsUntilBelow) {
  Scheduler sched(clock_, Options());
  sched.SetLimit(kJump, 3);
  Lease a = MustGrant(sched, "a");
  Lease b = MustGrant(sched, "b");
  Lease c = MustGrant(sched, "c");
  MustQueue(sched, "d");
  sched.SetLimit(kJump, 1);
  EXPECT_EQ(sched.Running(kJump), 3);
  EXPECT_EQ(sched.Leases().size(), 3u);
  ASSERT_TRUE(sched.Finish(a.id));
  EXPECT_TRUE(sched.TakeGrants().empty());
  ASSERT_TRUE(sched.Finish(b.id));
  EXPECT_TRUE(sched.TakeGrants().empty());
  EXPECT_EQ(sched.Running(kJump), 1);
  ASSERT_TRUE(sched.Finish(c.id));
  EXPECT_EQ(Clients(sched.TakeGrants()), (std::vector<std::string>{"d"}));
  EXPECT_FALSE(sched.Finish(c.id));  // already finished
}

TEST_F(SchedulerTest, ExpiryFreesTheSlotAndTheClientKeepsItsPlace) {
  Scheduler sched(clock_, Options());
  Lease a = MustGrant(sched, "a");
  EXPECT_EQ(sched.NextExpiryMs(), a.expires_ms);
  clock_.Advance(10);
  MustQueue(sched, "late-passive", /*active=*/false);
  clock_.Advance(10);
  MustQueue(sched, "b", /*active=*/true);

  clock_.Advance(100'000);
  EXPECT_TRUE(sched.Renew(a.id, 4096));  // progress pushes the expiry out
  clock_.Advance(100'000);
  EXPECT_TRUE(sched.ExpireDue().empty());
  EXPECT_EQ(sched.FindLease(a.id)->bytes_done, 4096u);

  clock_.Advance(20'000);
  std::vector<Lease> expired = sched.ExpireDue();
  ASSERT_EQ(Clients(expired), (std::vector<std::string>{"a"}));
  EXPECT_EQ(sched.NextExpiryMs(), clock_.WallMs() + 120'000);  // b's fresh lease
  EXPECT_EQ(Clients(sched.TakeGrants()), (std::vector<std::string>{"b"}));
  EXPECT_FALSE(sched.Renew(a.id, 8192));
  std::optional<Waiter> w = sched.FindWaiter("a");
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->present);
  EXPECT_EQ(w->first_request_ms, a.granted_ms);
  // Back in line ahead of the client that queued after its first request.
  EXPECT_EQ(MustQueue(sched, "a", /*active=*/false).position, 0u);
  EXPECT_EQ(sched.FindWaiter("late-passive")->first_request_ms, a.granted_ms + 10);
}

TEST_F(SchedulerTest, ReRequestWithALiveLeaseResumesIt) {
  Scheduler sched(clock_, Options());
  Lease a = MustGrant(sched, "a");
  ASSERT_TRUE(sched.Renew(a.id, 1000));
  sched.Disconnect("a");  // grace period: the lease stays
  clock_.Advance(30'000);
  EXPECT_TRUE(sched.ExpireDue().empty());
  Lease resumed = MustGrant(sched, "a", /*active=*/false);
  EXPECT_EQ(resumed.id, a.id);
  EXPECT_EQ(resumed.bytes_done, 1000u);
  EXPECT_EQ(sched.Running(kJump), 1);
  EXPECT_EQ(sched.FindLeaseByClient("a")->id, a.id);
}

TEST_F(SchedulerTest, FreeSlotGoesToPresentWaiterNotAnEarlierAbsentOne) {
  Scheduler sched(clock_, Options());
  Lease a = MustGrant(sched, "a");
  MustQueue(sched, "passive", /*active=*/false);
  clock_.Advance(5);
  MustQueue(sched, "active1");
  clock_.Advance(5);
  MustQueue(sched, "active2");
  sched.Disconnect("active1");  // keeps its place, but cannot take a slot now
  ASSERT_TRUE(sched.Finish(a.id));
  EXPECT_EQ(Clients(sched.TakeGrants()), (std::vector<std::string>{"active2"}));
  EXPECT_EQ(MustQueue(sched, "active1").position, 1u);  // behind "passive" only
  EXPECT_EQ(MustQueue(sched, "passive", false).position, 0u);
}

TEST_F(SchedulerTest, CancelLeavesTheQueueAndDisconnectKeepsThePlace) {
  Scheduler sched(clock_, Options());
  MustGrant(sched, "a");
  MustQueue(sched, "b");
  clock_.Advance(1);
  MustQueue(sched, "c");
  clock_.Advance(1);
  MustQueue(sched, "d");
  sched.Disconnect("c");
  sched.Cancel("b");
  EXPECT_FALSE(sched.FindWaiter("b"));
  EXPECT_EQ(sched.Waiting(kJump), 2u);
  EXPECT_EQ(MustQueue(sched, "d").position, 1u);
  EXPECT_EQ(MustQueue(sched, "c").position, 0u);
  sched.Cancel("a");  // a lease holder is not in the queue; its lease is untouched
  EXPECT_TRUE(sched.FindLeaseByClient("a"));
}

TEST_F(SchedulerTest, PassiveSentAwayReturnsBeforeItsPredictedSlot) {
  SchedulerOptions options = Options();
  options.retry.max_hold_ms = 60'000;
  options.retry.max_held = 0;  // nobody is held: every passive waiter gets a retry time
  options.retry.return_budget_per_s = 0.01;  // a cap (absent / budget) far away
  Scheduler sched(clock_, options);
  sched.SetLimit(kJump, 4);
  for (int i = 0; i < 4; ++i) MustGrant(sched, "r" + std::to_string(i));
  for (size_t i = 0; i < 400; ++i) {
    Queued q = MustQueue(sched, "p" + std::to_string(i), /*active=*/false);
    EXPECT_EQ(q.position, i);
    EXPECT_EQ(q.hold_ms, 0);
    // Predicted wait: (position + 1) * 60 s / 4 slots.
    const double wait = static_cast<double>(i + 1) * 60'000 / 4;
    const double cap = std::max(static_cast<double>(i) * 100'000, 5'000.0);
    const double base =
        std::clamp(std::min({wait - 30'000, 0.85 * wait, cap}), 5'000.0, 86'400'000.0);
    EXPECT_GE(q.retry_after_ms, std::floor(base * 0.9) - 1) << i;
    EXPECT_LE(q.retry_after_ms, std::ceil(base * 1.1) + 1) << i;
    if (base > 5'000) {
      EXPECT_LT(q.retry_after_ms, wait) << i;  // back before its slot
    }
  }
}

TEST_F(SchedulerTest, PassiveRetryIsCappedByTheReturnBudget) {
  SchedulerOptions options = Options();
  options.retry.return_budget_per_s = 10;  // 10 returns per second
  options.retry.jitter = 0.1;
  Scheduler sched(clock_, options);
  MustGrant(sched, "holder");
  for (size_t i = 0; i < 1000; ++i) {
    Queued q = MustQueue(sched, "p" + std::to_string(i), false);
    // With i clients away, the cap is i / 10 per second (at least 5 s); the estimate (60 s per
    // upgrade, one slot) would send them much further.
    const double cap = std::max(static_cast<double>(i) * 100.0, 5'000.0);
    EXPECT_LE(q.retry_after_ms, std::ceil(cap * 1.1) + 1) << i;
    EXPECT_GE(q.retry_after_ms, std::floor(cap * 0.9) - 1) << i;
  }
  EXPECT_EQ(sched.AbsentWaiting(), 1000u);
}

TEST_F(SchedulerTest, PassiveNearItsSlotIsHeldAndGrantedWhenASlotFrees) {
  SchedulerOptions options = Options();
  options.retry.max_hold_ms = 300'000;
  options.retry.max_held = 2;
  Scheduler sched(clock_, options);
  sched.SetLimit(kJump, 2);
  Lease a = MustGrant(sched, "a", false);
  MustGrant(sched, "b", false);
  // 60 s per upgrade over 2 slots: positions 0..9 are predicted within 300 s.
  Queued c = MustQueue(sched, "c", false);
  EXPECT_GE(c.hold_ms, 270'000);
  EXPECT_LE(c.hold_ms, 330'000);
  EXPECT_GE(c.retry_after_ms, 4'500);
  EXPECT_LE(c.retry_after_ms, 5'500);
  clock_.Advance(1);
  Queued d = MustQueue(sched, "d", false);
  EXPECT_GT(d.hold_ms, 0);
  clock_.Advance(1);
  Queued e = MustQueue(sched, "e", false);  // max_held reached: sent away
  EXPECT_EQ(e.hold_ms, 0);
  EXPECT_EQ(sched.HeldPassive(), 2u);
  EXPECT_EQ(sched.PresentWaiting(kJump), 2u);
  // A held waiter is present: a freed slot is pushed to it at once.
  ASSERT_TRUE(sched.Finish(a.id));
  EXPECT_EQ(Clients(sched.TakeGrants()), (std::vector<std::string>{"c"}));
  EXPECT_EQ(sched.HeldPassive(), 1u);
  // A held waiter that hangs up keeps its place but is no longer held.
  sched.Disconnect("d");
  EXPECT_EQ(sched.HeldPassive(), 0u);
  EXPECT_EQ(sched.AbsentWaiting(), 2u);
  EXPECT_EQ(MustQueue(sched, "d", false).position, 0u);
  EXPECT_EQ(sched.HeldPassive(), 1u);
}

TEST_F(SchedulerTest, EstimateFollowsFinishedUpgrades) {
  Scheduler sched(clock_, Options());
  EXPECT_EQ(sched.EstimatedDurationMs(kJump), 60'000);
  Lease a = MustGrant(sched, "a");
  clock_.Advance(10'000);
  sched.Finish(a.id);
  EXPECT_EQ(sched.EstimatedDurationMs(kJump), 10'000);
  Lease b = MustGrant(sched, "b");
  clock_.Advance(20'000);
  sched.Finish(b.id);
  EXPECT_EQ(sched.EstimatedDurationMs(kJump), 12'000);  // 0.2 * 20 s + 0.8 * 10 s
  EXPECT_EQ(sched.DurationSamples(kJump), 2u);
  EXPECT_EQ(sched.SteadyDurationMs(kJump), 15'000);  // the steady average: the mean so far
  EXPECT_EQ(sched.EstimatedDurationMs(kJumpoint), 60'000);
  // An initial guess applies only until something was learned.
  sched.SetInitialEstimate(kJump, 1'000);
  EXPECT_EQ(sched.EstimatedDurationMs(kJump), 12'000);
  sched.SetInitialEstimate(kJumpoint, 3'000);
  EXPECT_EQ(sched.EstimatedDurationMs(kJumpoint), 3'000);
  EXPECT_EQ(sched.DurationSamples(kJumpoint), 0u);
  // A restored estimate (after a restart) carries on learning from where it was.
  Scheduler restarted(clock_, Options());
  restarted.RestoreEstimate(kJump, 12'000, 2);
  EXPECT_EQ(restarted.EstimatedDurationMs(kJump), 12'000);
  restarted.SetInitialEstimate(kJump, 1'000);
  EXPECT_EQ(restarted.EstimatedDurationMs(kJump), 12'000);
  Lease c = MustGrant(restarted, "c");
  clock_.Advance(2'000);
  restarted.Finish(c.id);
  EXPECT_EQ(restarted.EstimatedDurationMs(kJump), 10'000);  // 0.2 * 2 s + 0.8 * 12 s
}

TEST_F(SchedulerTest, RestoredLeasesCountBeforeTheFirstRequest) {
  Scheduler sched(clock_, Options());
  sched.SetLimit(kJump, 2);
  const int64_t now = clock_.WallMs();
  Lease x{.id = 7,
          .client_id = "x",
          .scope = std::string(kJump),
          .target_version = "2.0",
          .granted_ms = now - 1000,
          .expires_ms = now + 5000,
          .bytes_done = 10};
  Lease y = x;
  y.id = 9;
  y.client_id = "y";
  Lease z = x;
  z.id = 11;
  z.client_id = "z";
  ASSERT_TRUE(sched.RestoreLease(x));
  EXPECT_FALSE(sched.RestoreLease(x));  // duplicate
  ASSERT_TRUE(sched.RestoreLease(y));
  ASSERT_TRUE(sched.RestoreLease(z));  // above the limit: still counts
  ASSERT_TRUE(sched.RestoreWaiter("w", std::string(kJump), now - 500));
  EXPECT_FALSE(sched.RestoreWaiter("x", std::string(kJump), now));  // holds a lease
  sched.SetNextLeaseId(3);                                          // never goes back
  EXPECT_EQ(sched.NextLeaseId(), 12u);
  EXPECT_EQ(sched.Running(kJump), 3);
  EXPECT_EQ(MustQueue(sched, "new").position, 1u);  // behind the restored waiter
  EXPECT_EQ(MustGrant(sched, "x").id, 7u);          // reconnect resumes the restored lease
  sched.Finish(7);
  EXPECT_TRUE(sched.TakeGrants().empty());  // 2 running, limit 2
  sched.Finish(9);
  std::vector<Lease> grants = sched.TakeGrants();
  ASSERT_EQ(Clients(grants), (std::vector<std::string>{"new"}));  // "w" is not connected
  EXPECT_EQ(grants[0].id, 12u);
  clock_.Advance(5000);
  EXPECT_EQ(Clients(sched.ExpireDue()), (std::vector<std::string>{"z"}));
  EXPECT_EQ(MustGrant(sched, "w", false).id, 13u);
}

TEST_F(SchedulerTest, TakeGrantsSkipsLeasesThatAlreadyEnded) {
  Scheduler sched(clock_, Options());
  Lease a = MustGrant(sched, "a");
  MustQueue(sched, "b");
  clock_.Advance(1);
  MustQueue(sched, "c");
  sched.Finish(a.id);
  Lease b = *sched.FindLeaseByClient("b");
  sched.Finish(b.id);
  EXPECT_EQ(Clients(sched.TakeGrants()), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(sched.TakeGrants().empty());
}

TEST_F(SchedulerTest, LargeFleetOfPassiveWaitersStaysOrdered) {
  Scheduler sched(clock_, Options());
  sched.SetLimit(kJump, 10);
  constexpr size_t kFleet = 20'000;
  for (size_t i = 0; i < kFleet; ++i) {
    Decision d = sched.Request("c" + std::to_string(i), kJump, "2.0", false);
    if (i < 10) {
      ASSERT_TRUE(std::holds_alternative<Granted>(d));
    } else {
      ASSERT_EQ(std::get<Queued>(d).position, i - 10);
    }
    if (i % 1000 == 0) clock_.Advance(1);
  }
  EXPECT_EQ(sched.Waiting(kJump), kFleet - 10);
  sched.Cancel("c10");
  const std::string last = "c" + std::to_string(kFleet - 1);
  EXPECT_EQ(std::get<Queued>(sched.Request(last, kJump, "2.0", false)).position, kFleet - 12);
  // A freed slot is pushed to nobody (every waiter is passive and away); the first waiter to
  // check in takes it, and the next one queues again at the head of the line.
  sched.Finish(1);
  EXPECT_TRUE(sched.TakeGrants().empty());
  EXPECT_TRUE(std::holds_alternative<Granted>(sched.Request("c11", kJump, "2.0", false)));
  EXPECT_EQ(std::get<Queued>(sched.Request("c12", kJump, "2.0", false)).position, 0u);
}

}  // namespace
}  // namespace sluice::sched
