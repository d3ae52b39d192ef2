#include "server/store/lease_repo.h"

#include <gtest/gtest.h>

#include "common/base/clock.h"
#include "common/db/migrate.h"
#include "server/sched/scheduler.h"
#include "server/store/audit_repo.h"
#include "server/store/schema.h"
#include "tests/server/store/migrated_db_test.h"
#include "tests/server/test_times.h"

namespace sluice::store {
namespace {

using sched::Lease;
using sluice::testing::TempDir;

using sluice::testing::kT0;

Lease MakeLease(uint64_t id, std::string client, std::string scope = "jump-client") {
  return Lease{.id = id,
               .client_id = std::move(client),
               .scope = std::move(scope),
               .target_version = "2.0.0",
               .granted_ms = kT0 + static_cast<int64_t>(id),
               .expires_ms = kT0 + 120'000,
               .bytes_done = 0};
}

class LeaseRepo : public store::testing::MigratedDbTest {
 protected:
  std::vector<Lease> Leases() {
    auto leases = LoadLeases(*db_);
    EXPECT_TRUE(leases) << leases.error().ToString();
    return leases.value_or(std::vector<Lease>{});
  }
  std::vector<sched::Waiter> Waiters() {
    auto waiters = LoadWaiters(*db_);
    EXPECT_TRUE(waiters) << waiters.error().ToString();
    return waiters.value_or(std::vector<sched::Waiter>{});
  }
  uint64_t NextId() {
    auto next = NextLeaseId(*db_);
    EXPECT_TRUE(next) << next.error().ToString();
    return next.value_or(0);
  }
};

TEST_F(LeaseRepo, SchemaIsAtVersionThree) {
  auto version = db::SchemaVersion(*db_);
  ASSERT_TRUE(version);
  EXPECT_GE(*version, 3);
}

TEST_F(LeaseRepo, SavedLeasesSurviveARestartInIdOrder) {
  Lease a = MakeLease(7, "c-a");
  a.bytes_done = 1234;
  Lease b = MakeLease(3, "c-b", "jumpoint");
  ASSERT_TRUE(SaveLease(*db_, a));
  ASSERT_TRUE(SaveLease(*db_, b));
  Reopen();
  EXPECT_EQ(Leases(), (std::vector<Lease>{b, a}));
}

TEST_F(LeaseRepo, SaveReplacesByIdAndDropsTheClientsStaleLease) {
  ASSERT_TRUE(SaveLease(*db_, MakeLease(1, "c-a")));
  Lease renewed = MakeLease(1, "c-a");
  renewed.expires_ms += 60'000;
  ASSERT_TRUE(SaveLease(*db_, renewed));
  EXPECT_EQ(Leases(), std::vector<Lease>{renewed});
  // A client holds one lease: a new one replaces a stale row rather than failing.
  ASSERT_TRUE(SaveLease(*db_, MakeLease(2, "c-a")));
  EXPECT_EQ(Leases(), std::vector<Lease>{MakeLease(2, "c-a")});
}

TEST_F(LeaseRepo, SaveRejectsALeaseWithoutIdOrClient) {
  auto no_id = SaveLease(*db_, MakeLease(0, "c-a"));
  ASSERT_FALSE(no_id);
  EXPECT_EQ(no_id.error().code(), Errc::kInvalidArgument);
  auto no_client = SaveLease(*db_, MakeLease(1, ""));
  ASSERT_FALSE(no_client);
  EXPECT_EQ(no_client.error().code(), Errc::kInvalidArgument);
  EXPECT_TRUE(Leases().empty());
}

TEST_F(LeaseRepo, ProgressUpdatesBytesAndExpiry) {
  ASSERT_TRUE(SaveLease(*db_, MakeLease(4, "c-a")));
  ASSERT_TRUE(UpdateLeaseProgress(*db_, 4, 5'000'000, kT0 + 500'000));
  auto leases = Leases();
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_EQ(leases[0].bytes_done, 5'000'000u);
  EXPECT_EQ(leases[0].expires_ms, kT0 + 500'000);
  auto missing = UpdateLeaseProgress(*db_, 99, 1, kT0);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
}

TEST_F(LeaseRepo, DeleteIsIdempotent) {
  ASSERT_TRUE(SaveLease(*db_, MakeLease(4, "c-a")));
  ASSERT_TRUE(SaveLease(*db_, MakeLease(5, "c-b")));
  ASSERT_TRUE(DeleteLease(*db_, 4));
  ASSERT_TRUE(DeleteLease(*db_, 4)) << "a lease may end twice (expired, then finished)";
  EXPECT_EQ(Leases(), std::vector<Lease>{MakeLease(5, "c-b")});
}

TEST_F(LeaseRepo, WaitersLoadInQueueOrder) {
  ASSERT_TRUE(SaveWaiter(*db_, "late", "jump-client", kT0 + 50));
  ASSERT_TRUE(SaveWaiter(*db_, "tie-first", "jump-client", kT0 + 10));
  ASSERT_TRUE(SaveWaiter(*db_, "early", "jumpoint", kT0));
  ASSERT_TRUE(SaveWaiter(*db_, "tie-second", "jump-client", kT0 + 10));
  // Re-saving keeps the tie-break position.
  ASSERT_TRUE(SaveWaiter(*db_, "tie-first", "jump-client", kT0 + 10));
  Reopen();
  auto waiters = Waiters();
  ASSERT_EQ(waiters.size(), 4u);
  EXPECT_EQ(waiters[0].client_id, "early");
  EXPECT_EQ(waiters[0].scope, "jumpoint");
  EXPECT_EQ(waiters[0].first_request_ms, kT0);
  EXPECT_FALSE(waiters[0].present);
  EXPECT_EQ(waiters[1].client_id, "tie-first");
  EXPECT_EQ(waiters[2].client_id, "tie-second");
  EXPECT_EQ(waiters[3].client_id, "late");
}

TEST_F(LeaseRepo, AGrantTakesTheClientOutOfTheQueue) {
  ASSERT_TRUE(SaveWaiter(*db_, "c-a", "jump-client", kT0));
  ASSERT_TRUE(SaveWaiter(*db_, "c-b", "jump-client", kT0 + 1));
  ASSERT_TRUE(SaveLease(*db_, MakeLease(1, "c-a")));
  auto waiters = Waiters();
  ASSERT_EQ(waiters.size(), 1u);
  EXPECT_EQ(waiters[0].client_id, "c-b");
}

TEST_F(LeaseRepo, ALeaseHolderCannotBeSavedAsAWaiter) {
  ASSERT_TRUE(SaveLease(*db_, MakeLease(1, "c-a")));
  auto saved = SaveWaiter(*db_, "c-a", "jump-client", kT0);
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().code(), Errc::kAlreadyExists);
  // Expiry: the lease goes first, then the client waits again.
  ASSERT_TRUE(DeleteLease(*db_, 1));
  ASSERT_TRUE(SaveWaiter(*db_, "c-a", "jump-client", kT0));
  ASSERT_TRUE(DeleteWaiter(*db_, "c-a"));
  ASSERT_TRUE(DeleteWaiter(*db_, "c-a"));
  EXPECT_TRUE(Waiters().empty());
}

TEST_F(LeaseRepo, NextLeaseIdNeverRepeatsAnIdEvenAfterLeasesEnd) {
  EXPECT_EQ(NextId(), 1u);
  ASSERT_TRUE(SaveLease(*db_, MakeLease(4, "c-a")));
  EXPECT_EQ(NextId(), 5u);
  // Lease 9 was granted and ended: only the audit log remembers it.
  ASSERT_TRUE(AppendAudit(*db_, {.wall_ms = kT0,
                                 .event = "grant",
                                 .scope = "jump-client",
                                 .client_id = "c-b",
                                 .lease_id = 9}));
  ASSERT_TRUE(AppendAudit(*db_, {.wall_ms = kT0,
                                 .event = "finish",
                                 .scope = "jump-client",
                                 .client_id = "c-b",
                                 .lease_id = 9}));
  Reopen();
  EXPECT_EQ(NextId(), 10u);
}

TEST_F(LeaseRepo, RestoredStateRebuildsTheScheduler) {
  // Persist what a scheduler with limit 2 did: two grants, three waiters.
  FakeClock clock(kT0);
  sched::Scheduler before(clock, sched::SchedulerOptions{.default_limit = 2});
  for (const char* id : {"c1", "c2", "c3", "c4", "c5"}) {
    auto decision = before.Request(id, "jump-client", "2.0.0", /*stays_connected=*/false);
    if (auto* granted = std::get_if<sched::Granted>(&decision)) {
      ASSERT_TRUE(SaveLease(*db_, granted->lease));
    } else {
      auto waiter = before.FindWaiter(id);
      ASSERT_TRUE(waiter);
      ASSERT_TRUE(SaveWaiter(*db_, waiter->client_id, waiter->scope, waiter->first_request_ms));
    }
    clock.Advance(10);
  }
  ASSERT_TRUE(AppendAudit(*db_, {.event = "grant", .scope = "jump-client", .lease_id = 2}));
  Reopen();

  sched::Scheduler after(clock, sched::SchedulerOptions{.default_limit = 2});
  for (const Lease& lease : Leases()) EXPECT_TRUE(after.RestoreLease(lease));
  for (const auto& waiter : Waiters()) {
    EXPECT_TRUE(after.RestoreWaiter(waiter.client_id, waiter.scope, waiter.first_request_ms));
  }
  after.SetNextLeaseId(NextId());
  EXPECT_EQ(after.Leases(), before.Leases());
  EXPECT_EQ(after.Running("jump-client"), 2);
  EXPECT_EQ(after.Waiting("jump-client"), 3u);
  EXPECT_EQ(after.NextLeaseId(), before.NextLeaseId());
  // First come, first served survives the restart: c3 is next in line.
  ASSERT_TRUE(after.Finish(1));
  auto next = after.Request("c3", "jump-client", "2.0.0", false);
  EXPECT_TRUE(std::holds_alternative<sched::Granted>(next));
  auto c5 = after.Request("c5", "jump-client", "2.0.0", false);
  ASSERT_TRUE(std::holds_alternative<sched::Queued>(c5));
  EXPECT_EQ(std::get<sched::Queued>(c5).position, 1u);  // c4 is ahead
}

}  // namespace
}  // namespace sluice::store
