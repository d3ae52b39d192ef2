#include "server/sched/audit_replay.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "common/base/clock.h"
#include "server/sched/scheduler.h"

namespace sluice::sched {
namespace {

using store::AuditRow;

constexpr char kJc[] = "jump-client";
constexpr char kJp[] = "jumpoint";

// Builds a log row by row, numbering seq from 1.
class Log {
 public:
  Log& Grant(uint64_t lease, std::string client, int running, int limit, std::string scope = kJc) {
    return Add({.event = "grant",
                .scope = std::move(scope),
                .client_id = std::move(client),
                .lease_id = lease,
                .version = "2.0.0",
                .running = running,
                .limit_value = limit});
  }
  Log& End(std::string event, uint64_t lease, int running, int limit, std::string scope = kJc) {
    return Add({.event = std::move(event),
                .scope = std::move(scope),
                .lease_id = lease,
                .running = running,
                .limit_value = limit});
  }
  Log& Progress(uint64_t lease, int running, int limit, std::string scope = kJc) {
    return End("progress", lease, running, limit, std::move(scope));
  }
  Log& Limit(int limit, int running, std::string scope = kJc) {
    return Add({.event = "limit_change",
                .scope = std::move(scope),
                .running = running,
                .limit_value = limit});
  }
  Log& Start() { return Add({.event = "server_start"}); }
  Log& Add(AuditRow row) {
    row.seq = static_cast<int64_t>(rows.size()) + 1;
    row.wall_ms = 1'000 * row.seq;
    rows.push_back(std::move(row));
    return *this;
  }
  ReplayResult Replay() const { return ReplayAudit(rows); }

  std::vector<AuditRow> rows;
};

std::string Joined(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) out += p + "\n";
  return out;
}

TEST(AuditReplay, EmptyLogProvesNothingWrong) {
  ReplayResult result = ReplayAudit({});
  EXPECT_TRUE(result.max_running.empty());
  EXPECT_TRUE(result.violations.empty());
  EXPECT_TRUE(result.problems.empty());
}

TEST(AuditReplay, GrantsWithinTheLimitAreClean) {
  Log log;
  log.Limit(2, 0).Grant(1, "a", 1, 2).Grant(2, "b", 2, 2).Progress(1, 2, 2);
  log.End("finish", 1, 1, 2).Grant(3, "c", 2, 2).End("fail", 2, 1, 2).End("rollback", 3, 0, 2);
  ReplayResult result = log.Replay();
  EXPECT_EQ(result.max_running, (std::map<std::string, int>{{kJc, 2}}));
  EXPECT_TRUE(result.violations.empty());
  EXPECT_TRUE(result.problems.empty()) << Joined(result.problems);
}

TEST(AuditReplay, AGrantAboveTheLimitIsAViolation) {
  Log log;
  log.Limit(1, 0).Grant(1, "a", 1, 1).Grant(2, "b", 2, 1);
  ReplayResult result = log.Replay();
  EXPECT_EQ(result.violations, (std::map<std::string, int>{{kJc, 1}}));
  EXPECT_EQ(result.max_running.at(kJc), 2);
  EXPECT_TRUE(result.problems.empty()) << Joined(result.problems);
}

TEST(AuditReplay, ScopesAreCountedSeparately) {
  Log log;
  log.Limit(1, 0, kJc).Limit(1, 0, kJp);
  log.Grant(1, "a", 1, 1, kJc).Grant(2, "b", 1, 1, kJp).Grant(3, "c", 2, 1, kJp);
  ReplayResult result = log.Replay();
  EXPECT_EQ(result.violations, (std::map<std::string, int>{{kJp, 1}}));
  EXPECT_EQ(result.max_running, (std::map<std::string, int>{{kJc, 1}, {kJp, 2}}));
}

TEST(AuditReplay, LeasesSurviveARestart) {
  // Two leases run across the restart: a third grant after it would be the third at once.
  Log log;
  log.Limit(2, 0).Grant(1, "a", 1, 2).Grant(2, "b", 2, 2).Start().Grant(3, "c", 3, 2);
  ReplayResult result = log.Replay();
  EXPECT_EQ(result.violations, (std::map<std::string, int>{{kJc, 1}}))
      << "a restart must not make the replay forget running leases";
  EXPECT_EQ(result.max_running.at(kJc), 3);

  // The correct behaviour: the restored lease expires first, then the slot is granted.
  Log ok;
  ok.Limit(2, 0).Grant(1, "a", 1, 2).Grant(2, "b", 2, 2).Start();
  ok.End("expire", 1, 1, 2).Grant(3, "c", 2, 2).End("finish", 2, 1, 2);
  ReplayResult clean = ok.Replay();
  EXPECT_TRUE(clean.violations.empty());
  EXPECT_EQ(clean.max_running.at(kJc), 2);
  EXPECT_TRUE(clean.problems.empty()) << Joined(clean.problems);
}

TEST(AuditReplay, LoweringTheLimitIsNoViolationButALaterGrantAboveItIs) {
  Log log;
  log.Limit(4, 0).Grant(1, "a", 1, 4).Grant(2, "b", 2, 4).Grant(3, "c", 3, 4).Grant(4, "d", 4, 4);
  log.Limit(2, 4);  // four keep running above the new limit: allowed
  ReplayResult lowered = log.Replay();
  EXPECT_TRUE(lowered.violations.empty());
  EXPECT_TRUE(lowered.problems.empty()) << Joined(lowered.problems);

  // One finishes (3 running): a grant now would make 4 > 2.
  Log bad = log;
  bad.End("finish", 1, 3, 2).Grant(5, "e", 4, 2);
  EXPECT_EQ(bad.Replay().violations, (std::map<std::string, int>{{kJc, 1}}));

  // Three finish (1 running): one grant fits under the new limit.
  Log good = log;
  good.End("finish", 1, 3, 2).End("finish", 2, 2, 2).End("expire", 3, 1, 2).Grant(5, "e", 2, 2);
  ReplayResult result = good.Replay();
  EXPECT_TRUE(result.violations.empty());
  EXPECT_EQ(result.max_running.at(kJc), 4);
  EXPECT_TRUE(result.problems.empty()) << Joined(result.problems);
}

TEST(AuditReplay, RaisingTheLimitAdmitsMore) {
  Log log;
  log.Limit(1, 0).Grant(1, "a", 1, 1).Limit(3, 1).Grant(2, "b", 2, 3).Grant(3, "c", 3, 3);
  ReplayResult result = log.Replay();
  EXPECT_TRUE(result.violations.empty());
  EXPECT_EQ(result.max_running.at(kJc), 3);
  EXPECT_TRUE(result.problems.empty()) << Joined(result.problems);
}

TEST(AuditReplay, ALeaseEndsOnceWhateverEndsItFirst) {
  // Duplicate finish, and a finish reported after the lease expired: the slot frees once.
  Log log;
  log.Limit(1, 0).Grant(1, "a", 1, 1).End("finish", 1, 0, 1).End("finish", 1, 0, 1);
  log.Grant(2, "b", 1, 1).End("expire", 2, 0, 1).End("finish", 2, 0, 1).End("rollback", 2, 0, 1);
  log.Grant(3, "c", 1, 1);
  ReplayResult result = log.Replay();
  EXPECT_TRUE(result.violations.empty());
  EXPECT_EQ(result.max_running.at(kJc), 1);
  EXPECT_TRUE(result.problems.empty()) << Joined(result.problems);

  // Had the duplicate freed a second slot, this grant would look legal; it is not.
  Log sneaky;
  sneaky.Limit(2, 0).Grant(1, "a", 1, 2).Grant(2, "b", 2, 2).End("expire", 1, 1, 2);
  sneaky.End("finish", 1, 1, 2).Grant(3, "c", 2, 2).Grant(4, "d", 3, 2);
  EXPECT_EQ(sneaky.Replay().violations, (std::map<std::string, int>{{kJc, 1}}));
}

TEST(AuditReplay, EndingALeaseNeverGrantedIsAProblem) {
  Log log;
  log.Limit(1, 0).End("finish", 9, 0, 1).Progress(8, 0, 1);
  ReplayResult result = log.Replay();
  ASSERT_EQ(result.problems.size(), 2u) << Joined(result.problems);
  EXPECT_NE(result.problems[0].find("seq 2"), std::string::npos) << result.problems[0];
  EXPECT_NE(result.problems[0].find("lease 9 was never granted"), std::string::npos);
  EXPECT_NE(result.problems[1].find("progress of lease 8"), std::string::npos);
  EXPECT_TRUE(result.violations.empty());
}

TEST(AuditReplay, RowsAreWalkedInSeqOrder) {
  Log log;
  log.Limit(1, 0).Grant(1, "a", 1, 1).End("finish", 1, 0, 1).Grant(2, "b", 1, 1);
  std::vector<AuditRow> shuffled(log.rows.rbegin(), log.rows.rend());
  ReplayResult result = ReplayAudit(shuffled);
  EXPECT_TRUE(result.violations.empty());
  EXPECT_TRUE(result.problems.empty()) << Joined(result.problems);
}

TEST(AuditReplay, InconsistentRowsAreReported) {
  Log log;
  log.Limit(2, 0).Grant(1, "a", 5, 2);  // records 5 running, the replay has 1
  log.Grant(2, "a", 2, 2);              // client a holds two leases
  log.Grant(2, "x", 2, 2);              // lease 2 granted twice
  log.Add({.event = "explode"});
  log.rows.push_back(log.rows.back());  // a repeated seq
  ReplayResult result = log.Replay();
  const std::string all = Joined(result.problems);
  EXPECT_NE(all.find("records 5 running"), std::string::npos) << all;
  EXPECT_NE(all.find("already holds lease 1"), std::string::npos) << all;
  EXPECT_NE(all.find("lease 2 granted again"), std::string::npos) << all;
  EXPECT_NE(all.find("unknown event"), std::string::npos) << all;
  EXPECT_NE(all.find("more than once"), std::string::npos) << all;
  EXPECT_TRUE(result.violations.empty());
}

TEST(AuditReplay, AGrantRecordingAHigherLimitThanInForceIsJudgedByTheLower) {
  Log log;
  log.Limit(1, 0).Grant(1, "a", 1, 1).Grant(2, "b", 2, 2);  // claims limit 2; in force: 1
  ReplayResult result = log.Replay();
  EXPECT_EQ(result.violations, (std::map<std::string, int>{{kJc, 1}}));
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_NE(result.problems[0].find("limit in force is 1"), std::string::npos);
}

TEST(AuditReplay, TheLimitIsLearnedFromGrantsWhenNeverChanged) {
  Log log;
  log.Grant(1, "a", 1, 2).Grant(2, "b", 2, 2).Grant(3, "c", 3, 3);
  ReplayResult result = log.Replay();
  EXPECT_EQ(result.violations, (std::map<std::string, int>{{kJc, 1}}));
  Log unknown;
  unknown.Grant(1, "a", 1, 0);
  EXPECT_EQ(unknown.Replay().problems.size(), 1u);
}

// Drives a real Scheduler with random events (limit changes up and down, finishes, expiries, a
// restart that restores leases), logging them the way the server must, and replays the log.
TEST(AuditReplay, ARealSchedulersLogReplaysWithoutViolations) {
  FakeClock clock(1'700'000'000'000);
  SchedulerOptions options{.lease_ttl_ms = 10'000, .default_limit = 3};
  auto scheduler = std::make_unique<Scheduler>(clock, options);
  Log log;
  auto row = [&](const char* event, const Lease& lease, int running) {
    log.Add({.event = event,
             .scope = lease.scope,
             .client_id = lease.client_id,
             .lease_id = lease.id,
             .running = running,
             .limit_value = scheduler->Limit(kJc)});
  };
  // Grants made as a side effect come after the event that freed their slots: the event's
  // `running` is the count before them.
  auto log_side_grants = [&] {
    auto grants = scheduler->TakeGrants();
    int running = scheduler->Running(kJc) - static_cast<int>(grants.size());
    return std::pair{grants, running};
  };
  std::mt19937 rng(7);
  for (int step = 0; step < 2000; ++step) {
    const int action = static_cast<int>(rng() % 10);
    const std::string client = "c" + std::to_string(rng() % 40);
    if (action < 5) {
      const bool held = scheduler->FindLeaseByClient(client).has_value();
      auto decision = scheduler->Request(client, kJc, "2.0.0", rng() % 2 == 0);
      auto [grants, running] = log_side_grants();
      auto* granted = std::get_if<Granted>(&decision);
      if (granted && !held) {
        --running;
        grants.insert(grants.begin(), granted->lease);
      }
      for (const Lease& g : grants) row("grant", g, ++running);
    } else if (action < 7) {
      auto leases = scheduler->Leases();
      if (leases.empty()) continue;
      const Lease& lease = leases[rng() % leases.size()];
      scheduler->Finish(lease.id);
      auto [grants, running] = log_side_grants();
      row(rng() % 2 ? "finish" : "fail", lease, running);
      for (const Lease& g : grants) row("grant", g, ++running);
    } else if (action < 8) {
      const int limit = 1 + static_cast<int>(rng() % 5);
      scheduler->SetLimit(kJc, limit);
      auto [grants, running] = log_side_grants();
      log.Add({.event = "limit_change", .scope = kJc, .running = running, .limit_value = limit});
      for (const Lease& g : grants) row("grant", g, ++running);
    } else if (action < 9) {
      clock.Advance(4'000);
      auto expired = scheduler->ExpireDue();
      auto [grants, running] = log_side_grants();
      running += static_cast<int>(expired.size());
      for (const Lease& e : expired) row("expire", e, --running);
      for (const Lease& g : grants) row("grant", g, ++running);
    } else {
      // Restart: restore the leases (from the database, in the server) into a new scheduler.
      auto leases = scheduler->Leases();
      const int limit = scheduler->Limit(kJc);
      const uint64_t next = scheduler->NextLeaseId();
      scheduler = std::make_unique<Scheduler>(clock, options);
      scheduler->SetLimit(kJc, limit);
      for (const Lease& lease : leases) ASSERT_TRUE(scheduler->RestoreLease(lease));
      scheduler->SetNextLeaseId(next);
      log.Start();
    }
  }
  ReplayResult result = log.Replay();
  EXPECT_TRUE(result.violations.empty());
  EXPECT_TRUE(result.problems.empty()) << Joined(result.problems);
  EXPECT_GE(result.max_running.at(kJc), 3) << "the run reached the limit";
  EXPECT_LE(result.max_running.at(kJc), 5);
}

}  // namespace
}  // namespace sluice::sched
