// Randomised property test of the throttle: thousands of random operations per seed, and the
// invariants of DESIGN.md checked after every single step.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "server/sched/scheduler.h"

namespace sluice::sched {
namespace {

// Sized to stay well under 5 s in a Debug build; SLUICE_SCHED_SEEDS=N runs more for a soak.
constexpr int kDefaultSeeds = 6;
constexpr int kStepsPerSeed = 2000;
constexpr int kClients = 40;
const std::vector<std::string> kScopes = {"jump-client", "jumpoint", "access-console"};

struct Client {
  std::string id;
  std::string scope;
  bool active;
};

class Harness {
 public:
  explicit Harness(uint64_t seed) : rng_(seed) {
    options_.jitter_seed = seed;
    options_.lease_ttl_ms = 120'000;
    options_.retry.max_held = 3;  // small, so that both passive paths (held, sent away) happen
    sched_ = std::make_unique<Scheduler>(clock_, options_);
    for (const std::string& scope : kScopes) sched_->SetLimit(scope, 1 + static_cast<int>(Pick(4)));
    for (int i = 0; i < kClients; ++i) {
      clients_.push_back({"c" + std::to_string(i), kScopes[Pick(kScopes.size())], Pick(2) == 0});
    }
  }

  // One random operation, then every invariant. The waiters seen after the previous step are
  // the state before this one (nothing changes between steps).
  void Step() {
    op_ = Op::kOther;
    direct_.reset();
    const size_t dice = Pick(100);
    if (dice < 35) {
      DoRequest(clients_[Pick(clients_.size())]);
    } else if (dice < 47) {
      if (auto lease = RandomLease()) sched_->Finish(lease->id);
    } else if (dice < 57) {
      if (auto lease = RandomLease()) {
        ASSERT_TRUE(sched_->Renew(lease->id, lease->bytes_done + 1));
      }
    } else if (dice < 65) {
      sched_->Disconnect(clients_[Pick(clients_.size())].id);
    } else if (dice < 69) {
      sched_->Cancel(clients_[Pick(clients_.size())].id);
    } else if (dice < 84) {
      clock_.Advance(static_cast<int64_t>(Pick(40'000)));
      if (Pick(10) < 7) DoExpire();
    } else if (dice < 92) {
      DoExpire();
    } else if (dice < 99) {
      const std::string& scope = kScopes[Pick(kScopes.size())];
      const int limit = 1 + static_cast<int>(Pick(6));
      if (limit < sched_->Limit(scope)) over_allowed_[scope] = true;
      sched_->SetLimit(scope, limit);
    } else {
      DoRestart();
    }
    Check();
  }

 private:
  enum class Op { kOther, kRestart };

  size_t Pick(size_t n) { return static_cast<size_t>(rng_() % n); }

  std::optional<Lease> RandomLease() {
    std::vector<Lease> leases = sched_->Leases();
    if (leases.empty()) return std::nullopt;
    return leases[Pick(leases.size())];
  }

  std::map<std::string, Waiter> Snapshot() const {
    std::map<std::string, Waiter> waiters;
    for (const Client& c : clients_) {
      if (auto w = sched_->FindWaiter(c.id)) waiters.emplace(c.id, *w);
    }
    return waiters;
  }

  void DoRequest(const Client& c) {
    std::optional<Lease> held = sched_->FindLeaseByClient(c.id);
    Decision d = sched_->Request(c.id, c.scope, "2.0", c.active);
    if (held) {  // resume
      ASSERT_TRUE(std::holds_alternative<Granted>(d));
      ASSERT_EQ(std::get<Granted>(d).lease, *held);
      return;
    }
    if (auto* granted = std::get_if<Granted>(&d)) {
      direct_ = granted->lease;
      return;
    }
    const Queued& q = std::get<Queued>(d);
    ASSERT_LT(q.position, sched_->Waiting(c.scope));
    if (c.active) {
      ASSERT_EQ(q.retry_after_ms, 0);
      ASSERT_EQ(q.hold_ms, 0);
    } else {
      ASSERT_GE(q.retry_after_ms, options_.retry.min_retry_ms);
      ASSERT_LE(q.retry_after_ms, options_.retry.max_retry_ms);
      ASSERT_GE(q.hold_ms, 0);
      ASSERT_LE(q.hold_ms, options_.retry.max_hold_ms * 11 / 10);
    }
    std::optional<Waiter> w = sched_->FindWaiter(c.id);
    ASSERT_TRUE(w);
    ASSERT_EQ(w->present, c.active || q.hold_ms > 0);  // a held passive waiter is present
    ASSERT_LE(sched_->HeldPassive(), options_.retry.max_held);
    if (auto before = pre_.find(c.id); before != pre_.end()) {
      ASSERT_EQ(w->first_request_ms, before->second.first_request_ms);  // keeps its place
    } else {
      ASSERT_EQ(w->first_request_ms, clock_.WallMs());
    }
  }

  void DoExpire() {
    const int64_t now = clock_.WallMs();
    std::vector<Lease> expired = sched_->ExpireDue();
    for (const Lease& lease : expired) {
      ASSERT_LE(lease.expires_ms, now);
      ASSERT_FALSE(sched_->FindLease(lease.id));
      std::optional<Waiter> w = sched_->FindWaiter(lease.client_id);
      ASSERT_TRUE(w) << "expired client must re-enter the queue";
      ASSERT_FALSE(w->present);
      ASSERT_LE(w->first_request_ms, lease.granted_ms);  // its original place
    }
    ASSERT_GT(sched_->NextExpiryMs(), now);
  }

  // Simulates a server restart from what the server persists: leases, queue order, limits
  // (sometimes lowered by the admin meanwhile) and the next lease id. Connections all drop.
  void DoRestart() {
    op_ = Op::kRestart;
    std::vector<Lease> leases = sched_->Leases();
    std::vector<Waiter> waiters;
    for (auto& [id, w] : pre_) waiters.push_back(w);
    std::stable_sort(waiters.begin(), waiters.end(), [](const Waiter& a, const Waiter& b) {
      return a.first_request_ms < b.first_request_ms;
    });
    const uint64_t next_id = sched_->NextLeaseId();
    std::map<std::string, int> limits;
    for (const std::string& scope : kScopes) {
      limits[scope] = Pick(2) ? sched_->Limit(scope) : 1;
      over_allowed_[scope] = true;
    }
    options_.jitter_seed++;
    sched_ = std::make_unique<Scheduler>(clock_, options_);
    for (auto& [scope, limit] : limits) sched_->SetLimit(scope, limit);
    for (const Lease& lease : leases) ASSERT_TRUE(sched_->RestoreLease(lease));
    for (const Waiter& w : waiters) {
      ASSERT_TRUE(sched_->RestoreWaiter(w.client_id, w.scope, w.first_request_ms));
    }
    sched_->SetNextLeaseId(next_id);
  }

  int64_t FirstRequest(const std::string& client) const {
    auto it = pre_.find(client);
    return it == pre_.end() ? clock_.WallMs() : it->second.first_request_ms;
  }

  void Check() {
    std::map<std::string, Waiter> post = Snapshot();
    CheckInvariants(post);
    pre_ = std::move(post);
  }

  struct ScopeCounts {
    int running = 0;
    size_t waiting = 0;
    size_t present = 0;
    int64_t earliest_present = std::numeric_limits<int64_t>::max();  // first request
  };

  void CheckInvariants(const std::map<std::string, Waiter>& post) {
    std::vector<Lease> pushed = sched_->TakeGrants();
    if (op_ == Op::kRestart) {
      ASSERT_TRUE(pushed.empty());
    }
    std::vector<Lease> grants = pushed;
    if (direct_) grants.push_back(*direct_);
    CheckFreshGrants(grants);
    std::map<std::string, ScopeCounts> counts = CheckLeasesAndCount(post);
    for (const std::string& scope : kScopes) CheckScope(scope, counts[scope], grants, pushed);
  }

  // Fresh grants: new, increasing ids; a full TTL.
  void CheckFreshGrants(const std::vector<Lease>& grants) {
    const int64_t now = clock_.WallMs();
    for (const Lease& g : grants) {
      ASSERT_GT(g.id, max_id_seen_);
      max_id_seen_ = std::max(max_id_seen_, g.id);
      ASSERT_EQ(g.granted_ms, now);
      ASSERT_EQ(g.expires_ms, now + options_.lease_ttl_ms);
    }
  }

  // One lease per client; lease holders are not waiting; the next expiry is right.
  std::map<std::string, ScopeCounts> CheckLeasesAndCount(
      const std::map<std::string, Waiter>& post) {
    std::map<std::string, ScopeCounts> counts;
    std::set<std::string> holders;
    int64_t next_expiry = std::numeric_limits<int64_t>::max();
    for (const Lease& lease : sched_->Leases()) {
      EXPECT_TRUE(holders.insert(lease.client_id).second) << "two leases: " << lease.client_id;
      EXPECT_FALSE(sched_->FindWaiter(lease.client_id)) << lease.client_id;
      counts[lease.scope].running++;
      next_expiry = std::min(next_expiry, lease.expires_ms);
    }
    EXPECT_EQ(sched_->NextExpiryMs(), next_expiry);
    for (auto& [id, w] : post) {
      ScopeCounts& c = counts[w.scope];
      c.waiting++;
      if (!w.present) continue;
      c.present++;
      c.earliest_present = std::min(c.earliest_present, w.first_request_ms);
    }
    return counts;
  }

  void CheckScope(const std::string& scope, const ScopeCounts& counts,
                  const std::vector<Lease>& grants, const std::vector<Lease>& pushed) {
    const int limit = sched_->Limit(scope);
    const int run = sched_->Running(scope);
    ASSERT_EQ(run, counts.running) << scope;
    ASSERT_EQ(sched_->Waiting(scope), counts.waiting) << scope;
    ASSERT_EQ(sched_->PresentWaiting(scope), counts.present) << scope;

    // Never above the limit, unless explained by restored leases / a lowered limit; and then
    // no grant in this scope until the count is back below.
    const bool granted_here =
        std::ranges::any_of(grants, [&](const Lease& g) { return g.scope == scope; });
    if (granted_here) {
      ASSERT_LE(run, limit) << scope;
    }
    if (run > limit) {
      ASSERT_TRUE(over_allowed_[scope]) << scope << " running=" << run << " limit=" << limit;
    } else {
      over_allowed_[scope] = false;
    }

    // No idle slot while a present client waits.
    if (counts.present > 0) {
      ASSERT_GE(run, limit) << scope;
    }

    // Pushed grants went to present waiters, in first-request order, none later than anyone
    // still waiting present; the direct grant (to the requester) too.
    int64_t last = std::numeric_limits<int64_t>::min();
    for (const Lease& g : pushed) {
      if (g.scope != scope) continue;
      auto before = pre_.find(g.client_id);
      ASSERT_TRUE(before != pre_.end() && before->second.present) << g.client_id;
      ASSERT_GE(before->second.first_request_ms, last);
      last = before->second.first_request_ms;
      ASSERT_LE(last, counts.earliest_present);
    }
    if (direct_ && direct_->scope == scope) {
      ASSERT_LE(FirstRequest(direct_->client_id), counts.earliest_present);
    }
  }

  FakeClock clock_;
  SchedulerOptions options_;
  std::unique_ptr<Scheduler> sched_;
  std::mt19937_64 rng_;
  std::vector<Client> clients_;
  std::map<std::string, bool> over_allowed_;
  std::map<std::string, Waiter> pre_;
  Op op_ = Op::kOther;
  std::optional<Lease> direct_;
  uint64_t max_id_seen_ = 0;
};

TEST(SchedulerPropertyTest, InvariantsHoldUnderRandomOperations) {
  const char* env = std::getenv("SLUICE_SCHED_SEEDS");
  const int seeds = env ? std::max(1, std::atoi(env)) : kDefaultSeeds;
  for (int seed = 1; seed <= seeds; ++seed) {
    SCOPED_TRACE("seed=" + std::to_string(seed));
    Harness harness(static_cast<uint64_t>(seed));
    for (int step = 0; step < kStepsPerSeed; ++step) {
      harness.Step();
      if (::testing::Test::HasFatalFailure()) {
        ADD_FAILURE() << "first failure at step " << step;
        return;
      }
    }
  }
}

}  // namespace
}  // namespace sluice::sched
