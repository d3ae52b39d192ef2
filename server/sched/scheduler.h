#pragma once
// The upgrade scheduler ("the throttle"): at most N upgrades per limit scope at once, each slot
// a lease renewed by download progress; waiting clients served first come, first served.
//
// Pure logic: no I/O, no threads, no timers. Time comes only from the injected Clock. The
// server calls it on its loop thread, persists what it reports (grants, expiries, finishes,
// queue order) and restores that state through Restore*() after a restart or a failover.
//
// Timestamps (granted_ms, expires_ms, first_request_ms) are Clock::WallMs() values, because
// they are persisted and must keep their meaning across a restart and on the failover peer;
// a wall-clock step only moves expiries by the size of the step.
//
// Invariants (checked by tests/server/sched/scheduler_property_test.cpp):
//  1. No grant is made while Running(scope) >= Limit(scope), so running never exceeds the limit
//     except for restored leases above a lowered limit; nor beyond the scope's grant budget.
//  2. A client holds at most one lease and is never both a lease holder and a waiter.
//  3. After every call, a scope with a present (connected) waiter has no free slot: free slots go
//     at once to the present waiter with the earliest (first_request_ms, arrival sequence).
//
// Not thread-safe: one owner thread.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/base/clock.h"
#include "server/sched/retry_policy.h"
#include "server/sched/wait_queue.h"

namespace sluice::sched {

struct SchedulerOptions {
  int64_t lease_ttl_ms = 120'000;        // renewed by progress
  int64_t default_duration_ms = 60'000;  // estimate before any upgrade has finished
  RetryOptions retry = {};               // what queued passive clients are told
  uint64_t jitter_seed = 0;
  int default_limit = 1;        // max_concurrent of a scope never given to SetLimit()
  double duration_alpha = 0.2;  // EWMA weight of the newest finished upgrade
};

// One running upgrade.
struct Lease {
  uint64_t id = 0;
  std::string client_id;
  std::string scope;
  std::string target_version;
  int64_t granted_ms = 0;
  int64_t expires_ms = 0;
  uint64_t bytes_done = 0;
  bool operator==(const Lease&) const = default;
};

struct Granted {
  Lease lease;
};
struct Queued {
  size_t position = 0;         // waiters ahead in its scope (connected or not); 0 = next in line
  int64_t retry_after_ms = 0;  // passive: stay away this long (after the hold, if held); active: 0
  int64_t hold_ms = 0;         // passive and held: stay connected up to this long; otherwise 0
};
using Decision = std::variant<Granted, Queued>;

// A waiting client as the scheduler sees it (for persistence and admin views).
struct Waiter {
  std::string client_id;
  std::string scope;
  int64_t first_request_ms = 0;
  bool present = false;
};

class Scheduler {
 public:
  // `clock` must outlive the scheduler.
  Scheduler(Clock& clock, SchedulerOptions options);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Sets a scope's max_concurrent (values < 1 count as 1). Raising it grants free slots to
  // present waiters at once (collect them with TakeGrants()); lowering it never touches running
  // leases, it only stops grants until Running() drops below the new limit.
  void SetLimit(std::string_view scope, int max_concurrent);
  int Limit(std::string_view scope) const;
  // Caps the new grants of a scope (a canary wave, a halted rollout): nullopt = no cap; each
  // grant uses one; 0 = no grants. Resumed leases are not grants. Raising it grants free slots
  // to present waiters at once (TakeGrants()).
  void SetGrantBudget(std::string_view scope, std::optional<int64_t> budget);
  std::optional<int64_t> GrantBudget(std::string_view scope) const;
  int Running(std::string_view scope) const;
  size_t Waiting(std::string_view scope) const;         // present and absent
  size_t PresentWaiting(std::string_view scope) const;  // connected now

  // --- Restoring persisted state (server restart / failover), before the first Request(). ---
  // Restores a lease; it counts against the limit even above a lowered limit. Raises the next
  // lease id past it. Returns false (and changes nothing) if the id or the client already holds
  // a lease. A restored lease keeps granted_ms as its holder's place in line should it expire.
  bool RestoreLease(const Lease& lease);
  // Restores a waiter (not present) at its persisted place; restores in call order break ties.
  // Returns false if the client holds a lease. A client already waiting is moved.
  bool RestoreWaiter(std::string client_id, std::string scope, int64_t first_request_ms);
  // Lease ids are never reused: the next id is max(current next id, `next`).
  void SetNextLeaseId(uint64_t next);
  // Held: no grants at all, in any scope (requests queue; running leases go on). A failover
  // pair's backup and a new primary that may not know every running lease hold them
  // (docs/admin.md, "The limit across a failover"). Releasing grants free slots to present
  // waiters at once (TakeGrants()).
  void HoldGrants(bool held);
  bool grants_held() const { return grants_held_; }

  // --- Events. ---
  // A client asks to upgrade (at check-in; it is connected during the call).
  //  - It holds a lease: returns that lease unchanged (resume; only Renew() extends expiry).
  //  - A slot is free and no earlier present client waits in its scope: grants.
  //  - Otherwise queues it, keeping its first_request_ms if it was already queued (in any
  //    scope), and returns its position. An active client stays present and will be granted
  //    via TakeGrants() the moment a slot frees. A passive client (!stays_connected) gets a
  //    RetryPolicy plan: held (it stays present, like an active client, until it disconnects)
  //    or sent away (not present) with a retry time.
  // Cost: O(log n) in the scope's waiters, including the position.
  Decision Request(std::string_view client_id, std::string_view scope,
                   std::string_view target_version, bool stays_connected);
  // Download progress: records bytes_done and extends expiry to now + lease_ttl_ms.
  // Returns false if the lease is unknown (finished or expired).
  bool Renew(uint64_t lease_id, uint64_t bytes_done);
  // The upgrade ended (success, failure, rollback): frees the slot at once, records the
  // duration for estimates, grants free slots to present waiters. nullopt if unknown.
  std::optional<Lease> Finish(uint64_t lease_id);
  // The client's connection dropped: a waiter stops being present but keeps its place. Its lease,
  // if any, is untouched (it runs until it finishes or expires).
  void Disconnect(std::string_view client_id);
  // The client leaves the queue entirely (deleted, no longer outdated). Does not touch a lease:
  // end one with Finish().
  void Cancel(std::string_view client_id);
  // Expires leases with expires_ms <= now; their clients re-enter the queue at their original
  // place, not present. Then grants free slots to present waiters. Returns the expired leases
  // in expiry order. Call from a timer armed with NextExpiryMs().
  std::vector<Lease> ExpireDue();
  // Earliest expires_ms of any lease; INT64_MAX if none.
  int64_t NextExpiryMs() const;
  // Drains the grants made to present waiters as a side effect of SetLimit / Finish / ExpireDue
  // / Request (never the requester's own grant, which Request returns). Only leases still held
  // are returned, in grant order; the server pushes them to the clients.
  std::vector<Lease> TakeGrants();

  // --- Queries. ---
  std::optional<Lease> FindLeaseByClient(std::string_view client_id) const;
  // The pointer is valid until the next non-const call.
  const Lease* FindLease(uint64_t id) const;
  std::vector<Lease> Leases() const;  // by id
  std::optional<Waiter> FindWaiter(std::string_view client_id) const;
  // EWMA of the scope's finished upgrade durations; default_duration_ms (or the initial
  // estimate set for the scope) before any.
  int64_t EstimatedDurationMs(std::string_view scope) const;
  // A steadier average of the same durations, for forecasts (DurationEstimate).
  int64_t SteadyDurationMs(std::string_view scope) const;
  // Finished upgrades behind the scope's estimate (0: it is still a guess).
  uint64_t DurationSamples(std::string_view scope) const;
  // Sets the scope's guess before any upgrade has finished (e.g. from the package size and
  // the bandwidth); ignored once the scope has samples.
  void SetInitialEstimate(std::string_view scope, int64_t estimate_ms);
  // Restores a persisted estimate (restart / failover).
  void RestoreEstimate(std::string_view scope, int64_t estimate_ms, uint64_t samples);
  // Passive returns per second the retry cap aims for (see RetryPolicy).
  void SetPassiveReturnBudget(double per_s) { retry_.SetReturnBudget(per_s); }
  // Passive waiters held connected now (all scopes).
  size_t HeldPassive() const { return held_passive_; }
  // Waiters that are away (all scopes).
  size_t AbsentWaiting() const { return waiters_.size() - present_waiters_; }
  uint64_t NextLeaseId() const { return next_lease_id_; }

 private:
  struct ScopeState {
    explicit ScopeState(int limit, DurationEstimate estimate) : limit(limit), estimate(estimate) {}
    int limit;
    int running = 0;
    std::optional<int64_t> budget;  // grants still allowed; nullopt: no cap
    WaitQueue queue;
    DurationEstimate estimate;
  };
  struct LeaseEntry {
    Lease lease;
    WaitKey key;  // the holder's place in line, should the lease expire
  };
  struct WaiterEntry {
    std::string scope;
    WaitKey key;
    bool present = false;
    bool passive = false;  // a present passive waiter is a held one
    std::string target_version;
  };

  int64_t Now() const { return clock_.WallMs(); }
  ScopeState& Scope(std::string_view scope);
  const ScopeState* FindScope(std::string_view scope) const;
  // Adds a waiter (not yet in any queue) to its scope's queue and the waiter index.
  void Enqueue(std::string_view client_id, WaiterEntry entry);
  // Removes a waiter from its queue and the index; no-op if not waiting.
  void Dequeue(std::string_view client_id);
  // Marks a waiter connected or away, keeping the presence counters true.
  void SetPresence(WaiterEntry& entry, bool present);
  void CountPresence(const WaiterEntry& entry, int sign);
  LeaseEntry& Grant(std::string_view client_id, std::string_view scope,
                    std::string_view target_version, const WaitKey& key);
  void RemoveLease(std::map<uint64_t, LeaseEntry>::iterator it);
  // Grants free slots of `scope` to present waiters in order. Grants go to TakeGrants() except
  // the one to `direct_client` (the caller of Request, which gets it as the return value).
  void FillScope(std::string_view scope, std::string_view direct_client = {});

  Clock& clock_;
  SchedulerOptions options_;
  RetryPolicy retry_;
  uint64_t next_lease_id_ = 1;
  uint64_t next_seq_ = 1;
  std::map<std::string, ScopeState, std::less<>> scopes_;
  std::map<uint64_t, LeaseEntry> leases_;
  std::map<std::string, uint64_t, std::less<>> lease_by_client_;
  std::set<std::pair<int64_t, uint64_t>> expiries_;  // (expires_ms, lease id)
  std::map<std::string, WaiterEntry, std::less<>> waiters_;
  std::vector<uint64_t> pending_grants_;
  bool grants_held_ = false;
  size_t present_waiters_ = 0;  // all scopes
  size_t held_passive_ = 0;     // present passive waiters, all scopes
};

}  // namespace sluice::sched
