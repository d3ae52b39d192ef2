#include "server/sched/scheduler.h"

#include <algorithm>

namespace sluice::sched {

Scheduler::Scheduler(Clock& clock, SchedulerOptions options)
    : clock_(clock),
      options_(options),
      retry_(options.retry, options.jitter_seed) {
  options_.default_limit = std::max(options_.default_limit, 1);
  options_.lease_ttl_ms = std::max<int64_t>(options_.lease_ttl_ms, 1);
}

// --- Scopes. ---

Scheduler::ScopeState& Scheduler::Scope(std::string_view scope) {
  auto it = scopes_.find(scope);
  if (it == scopes_.end()) {
    it = scopes_
             .try_emplace(std::string(scope), options_.default_limit,
                          DurationEstimate(options_.default_duration_ms, options_.duration_alpha))
             .first;
  }
  return it->second;
}

const Scheduler::ScopeState* Scheduler::FindScope(std::string_view scope) const {
  auto it = scopes_.find(scope);
  return it == scopes_.end() ? nullptr : &it->second;
}

void Scheduler::SetLimit(std::string_view scope, int max_concurrent) {
  Scope(scope).limit = std::max(max_concurrent, 1);
  FillScope(scope);
}

void Scheduler::SetGrantBudget(std::string_view scope, std::optional<int64_t> budget) {
  Scope(scope).budget = budget;
  FillScope(scope);
}

std::optional<int64_t> Scheduler::GrantBudget(std::string_view scope) const {
  const ScopeState* state = FindScope(scope);
  return state ? state->budget : std::nullopt;
}

int Scheduler::Limit(std::string_view scope) const {
  const ScopeState* state = FindScope(scope);
  return state ? state->limit : options_.default_limit;
}

int Scheduler::Running(std::string_view scope) const {
  const ScopeState* state = FindScope(scope);
  return state ? state->running : 0;
}

size_t Scheduler::Waiting(std::string_view scope) const {
  const ScopeState* state = FindScope(scope);
  return state ? state->queue.Size() : 0;
}

size_t Scheduler::PresentWaiting(std::string_view scope) const {
  const ScopeState* state = FindScope(scope);
  return state ? state->queue.PresentCount() : 0;
}

int64_t Scheduler::EstimatedDurationMs(std::string_view scope) const {
  const ScopeState* state = FindScope(scope);
  return state ? state->estimate.Ms() : std::max<int64_t>(options_.default_duration_ms, 0);
}

int64_t Scheduler::SteadyDurationMs(std::string_view scope) const {
  const ScopeState* state = FindScope(scope);
  return state ? state->estimate.SteadyMs() : std::max<int64_t>(options_.default_duration_ms, 0);
}

uint64_t Scheduler::DurationSamples(std::string_view scope) const {
  const ScopeState* state = FindScope(scope);
  return state ? state->estimate.samples() : 0;
}

void Scheduler::SetInitialEstimate(std::string_view scope, int64_t estimate_ms) {
  Scope(scope).estimate.SetInitial(estimate_ms);
}

void Scheduler::RestoreEstimate(std::string_view scope, int64_t estimate_ms, uint64_t samples) {
  Scope(scope).estimate.Restore(estimate_ms, samples);
}

// --- Queue and lease bookkeeping. ---

void Scheduler::Enqueue(std::string_view client_id, WaiterEntry entry) {
  Scope(entry.scope).queue.Insert(entry.key, std::string(client_id), entry.present);
  CountPresence(entry, +1);
  waiters_.insert_or_assign(std::string(client_id), std::move(entry));
}

void Scheduler::Dequeue(std::string_view client_id) {
  auto it = waiters_.find(client_id);
  if (it == waiters_.end()) return;
  Scope(it->second.scope).queue.Erase(it->second.key);
  CountPresence(it->second, -1);
  waiters_.erase(it);
}

void Scheduler::CountPresence(const WaiterEntry& entry, int sign) {
  if (!entry.present) return;
  present_waiters_ += sign;
  if (entry.passive) held_passive_ += sign;
}

void Scheduler::SetPresence(WaiterEntry& entry, bool present) {
  if (entry.present == present) return;
  CountPresence(entry, -1);
  entry.present = present;
  CountPresence(entry, +1);
  Scope(entry.scope).queue.SetPresent(entry.key, present);
}

Scheduler::LeaseEntry& Scheduler::Grant(std::string_view client_id, std::string_view scope,
                                        std::string_view target_version, const WaitKey& key) {
  const int64_t now = Now();
  LeaseEntry entry{Lease{.id = next_lease_id_++,
                         .client_id = std::string(client_id),
                         .scope = std::string(scope),
                         .target_version = std::string(target_version),
                         .granted_ms = now,
                         .expires_ms = now + options_.lease_ttl_ms},
                   key};
  Scope(scope).running++;
  lease_by_client_.insert_or_assign(entry.lease.client_id, entry.lease.id);
  expiries_.insert({entry.lease.expires_ms, entry.lease.id});
  return leases_.emplace(entry.lease.id, std::move(entry)).first->second;
}

void Scheduler::RemoveLease(std::map<uint64_t, LeaseEntry>::iterator it) {
  const Lease& lease = it->second.lease;
  Scope(lease.scope).running--;
  expiries_.erase({lease.expires_ms, lease.id});
  lease_by_client_.erase(lease.client_id);
  leases_.erase(it);
}

void Scheduler::HoldGrants(bool held) {
  grants_held_ = held;
  if (held) return;
  std::vector<std::string> scopes;
  for (const auto& [scope, state] : scopes_) scopes.push_back(scope);
  for (const std::string& scope : scopes) FillScope(scope);
}

void Scheduler::FillScope(std::string_view scope, std::string_view direct_client) {
  if (grants_held_) return;
  ScopeState& state = Scope(scope);
  while (state.running < state.limit && (!state.budget || *state.budget > 0)) {
    std::optional<WaitQueue::Entry> next = state.queue.FirstPresent();
    if (!next) break;
    if (state.budget) --*state.budget;
    const std::string client_id = *next->client_id;  // copy: Dequeue() frees the original
    auto waiter = waiters_.find(client_id);
    const std::string target_version = waiter->second.target_version;
    Dequeue(client_id);
    const LeaseEntry& granted = Grant(client_id, scope, target_version, next->key);
    if (client_id != direct_client) pending_grants_.push_back(granted.lease.id);
  }
}

// --- Restore. ---

bool Scheduler::RestoreLease(const Lease& lease) {
  if (leases_.contains(lease.id) || lease_by_client_.contains(lease.client_id)) return false;
  WaitKey key{lease.granted_ms, next_seq_++};
  if (auto waiter = waiters_.find(lease.client_id); waiter != waiters_.end()) {
    key = waiter->second.key;  // it was persisted in line too: keep its real place
    Dequeue(lease.client_id);
  }
  Scope(lease.scope).running++;
  lease_by_client_.insert_or_assign(lease.client_id, lease.id);
  expiries_.insert({lease.expires_ms, lease.id});
  leases_.emplace(lease.id, LeaseEntry{lease, key});
  next_lease_id_ = std::max(next_lease_id_, lease.id + 1);
  return true;
}

bool Scheduler::RestoreWaiter(std::string client_id, std::string scope, int64_t first_request_ms) {
  if (lease_by_client_.contains(client_id)) return false;
  uint64_t seq = next_seq_++;
  std::string target_version;
  if (auto it = waiters_.find(client_id); it != waiters_.end()) {
    target_version = it->second.target_version;
    Dequeue(client_id);
  }
  Enqueue(client_id, WaiterEntry{.scope = std::move(scope),
                                 .key = {first_request_ms, seq},
                                 .present = false,
                                 .target_version = std::move(target_version)});
  return true;
}

void Scheduler::SetNextLeaseId(uint64_t next) { next_lease_id_ = std::max(next_lease_id_, next); }

// --- Events. ---

Decision Scheduler::Request(std::string_view client_id, std::string_view scope,
                            std::string_view target_version, bool stays_connected) {
  if (auto held = lease_by_client_.find(client_id); held != lease_by_client_.end()) {
    return Granted{leases_.at(held->second).lease};
  }
  WaitKey key{Now(), 0};
  if (auto it = waiters_.find(client_id); it != waiters_.end()) {
    key = it->second.key;
    Dequeue(client_id);
  } else {
    key.seq = next_seq_++;
  }
  // The requester is connected during the call: queue it as present and let the ordinary
  // fill decide, so that it gets a free slot only if no earlier present client waits.
  Enqueue(client_id, WaiterEntry{.scope = std::string(scope),
                                 .key = key,
                                 .present = true,
                                 .passive = !stays_connected,
                                 .target_version = std::string(target_version)});
  FillScope(scope, client_id);
  if (auto held = lease_by_client_.find(client_id); held != lease_by_client_.end()) {
    return Granted{leases_.at(held->second).lease};
  }
  ScopeState& state = Scope(scope);
  const size_t position = state.queue.Position(key);
  if (stays_connected) return Queued{.position = position};
  WaiterEntry& waiter = waiters_.find(client_id)->second;
  // Plan as if away: the requester is not yet counted among the held.
  SetPresence(waiter, false);
  const WaitPlan plan = retry_.Plan(position, state.limit, state.estimate.Ms(), held_passive_,
                                    AbsentWaiting() - 1);
  if (plan.held) SetPresence(waiter, true);
  return Queued{.position = position, .retry_after_ms = plan.retry_after_ms,
                .hold_ms = plan.hold_ms};
}

bool Scheduler::Renew(uint64_t lease_id, uint64_t bytes_done) {
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return false;
  Lease& lease = it->second.lease;
  expiries_.erase({lease.expires_ms, lease.id});
  lease.expires_ms = Now() + options_.lease_ttl_ms;
  lease.bytes_done = bytes_done;
  expiries_.insert({lease.expires_ms, lease.id});
  return true;
}

std::optional<Lease> Scheduler::Finish(uint64_t lease_id) {
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return std::nullopt;
  Lease lease = it->second.lease;
  Scope(lease.scope).estimate.Record(Now() - lease.granted_ms);
  RemoveLease(it);
  FillScope(lease.scope);
  return lease;
}

void Scheduler::Disconnect(std::string_view client_id) {
  auto it = waiters_.find(client_id);
  if (it == waiters_.end()) return;
  SetPresence(it->second, false);
}

void Scheduler::Cancel(std::string_view client_id) { Dequeue(client_id); }

std::vector<Lease> Scheduler::ExpireDue() {
  const int64_t now = Now();
  std::vector<Lease> expired;
  while (!expiries_.empty() && expiries_.begin()->first <= now) {
    auto it = leases_.find(expiries_.begin()->second);
    Lease lease = it->second.lease;
    const WaitKey key = it->second.key;
    RemoveLease(it);
    Enqueue(lease.client_id, WaiterEntry{.scope = lease.scope,
                                         .key = key,
                                         .present = false,
                                         .target_version = lease.target_version});
    expired.push_back(std::move(lease));
  }
  std::set<std::string_view> scopes;
  for (const Lease& lease : expired) scopes.insert(lease.scope);
  for (std::string_view scope : scopes) FillScope(scope);
  return expired;
}

int64_t Scheduler::NextExpiryMs() const {
  return expiries_.empty() ? std::numeric_limits<int64_t>::max() : expiries_.begin()->first;
}

std::vector<Lease> Scheduler::TakeGrants() {
  std::vector<Lease> grants;
  for (uint64_t id : pending_grants_) {
    if (auto it = leases_.find(id); it != leases_.end()) grants.push_back(it->second.lease);
  }
  pending_grants_.clear();
  return grants;
}

// --- Queries. ---

std::optional<Lease> Scheduler::FindLeaseByClient(std::string_view client_id) const {
  auto it = lease_by_client_.find(client_id);
  if (it == lease_by_client_.end()) return std::nullopt;
  return leases_.at(it->second).lease;
}

const Lease* Scheduler::FindLease(uint64_t id) const {
  auto it = leases_.find(id);
  return it == leases_.end() ? nullptr : &it->second.lease;
}

std::vector<Lease> Scheduler::Leases() const {
  std::vector<Lease> all;
  all.reserve(leases_.size());
  for (const auto& [id, entry] : leases_) all.push_back(entry.lease);
  return all;
}

std::optional<Waiter> Scheduler::FindWaiter(std::string_view client_id) const {
  auto it = waiters_.find(client_id);
  if (it == waiters_.end()) return std::nullopt;
  return Waiter{it->first, it->second.scope, it->second.key.first_request_ms, it->second.present};
}

}  // namespace sluice::sched
