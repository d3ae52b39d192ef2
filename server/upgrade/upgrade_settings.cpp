// The coordinator's startup restore and its admin-driven changes (limits, bandwidth,
// connection rate, policy, manual upgrades). Each change is persisted with its audit row.

#include "common/base/log.h"
#include "server/store/audit_repo.h"
#include "server/store/lease_repo.h"
#include "server/store/limits_repo.h"
#include "server/upgrade/upgrade_coordinator.h"

namespace sluice::server {

Status UpgradeCoordinator::Restore() {
  struct Loaded {
    std::map<std::string, int> limits;
    std::vector<sched::Lease> leases;
    std::vector<sched::Waiter> waiters;
    uint64_t next_lease_id = 1;
    uint64_t bandwidth = 0;
    uint64_t connection_rate = 50;
    std::map<std::string, store::PolicySetting> policies;
    std::map<std::string, store::DurationRecord> durations;
    std::map<std::string, store::GateSettings> gate_settings;
    std::map<std::string, std::string> gates;
    std::map<std::string, store::AdaptiveSetting> adaptive;
  };
  auto loaded = host_.store->Call<Loaded>([](db::Database& db) -> Result<Loaded> {
    Loaded out;
    auto limits = store::LoadLimits(db);
    auto leases = store::LoadLeases(db);
    auto waiters = store::LoadWaiters(db);
    auto next = store::NextLeaseId(db);
    auto bandwidth = store::GetBandwidthBytesPerS(db);
    auto rate = store::GetConnectionRatePerS(db);
    auto durations = store::LoadDurations(db);
    auto gate_settings = store::LoadGateSettings(db);
    auto gates = store::LoadRolloutGates(db);
    auto adaptive = store::LoadAdaptive(db);
    if (!adaptive) return Fail(adaptive.error());
    if (!limits || !leases || !waiters || !next || !bandwidth || !rate || !durations ||
        !gate_settings || !gates) {
      return Fail(Errc::kDatabase, "loading throttle state failed");
    }
    for (std::string_view kind : proto::UpgradableKinds()) {
      auto policy = store::GetPolicy(db, kind);
      if (!policy) return Fail(policy.error());
      out.policies[std::string(kind)] = *policy;
    }
    out.limits = std::move(*limits);
    out.leases = std::move(*leases);
    out.waiters = std::move(*waiters);
    out.next_lease_id = *next;
    out.bandwidth = static_cast<uint64_t>(*bandwidth);
    out.connection_rate = static_cast<uint64_t>(*rate);
    out.durations = std::move(*durations);
    out.gate_settings = std::move(*gate_settings);
    out.gates = std::move(*gates);
    out.adaptive = std::move(*adaptive);
    return out;
  });
  if (!loaded) return Context(loaded.error(), "restoring the throttle");
  for (const auto& [scope, limit] : loaded->limits) scheduler_.SetLimit(scope, limit);
  for (const auto& [scope, duration] : loaded->durations) {
    scheduler_.RestoreEstimate(scope, duration.estimate_ms, duration.samples);
  }
  // Leases before anything else: a restart must never admit more than the limit.
  for (const auto& lease : loaded->leases) {
    if (scheduler_.RestoreLease(lease)) {
      persisted_leases_.insert(lease.id);
      ++audited_running_[lease.scope];
    }
  }
  for (const auto& waiter : loaded->waiters) {
    scheduler_.RestoreWaiter(waiter.client_id, waiter.scope, waiter.first_request_ms);
  }
  scheduler_.SetNextLeaseId(loaded->next_lease_id);
  gate_settings_ = std::move(loaded->gate_settings);
  for (const auto& [scope, text] : loaded->gates) {
    auto gate = sched::RolloutGate::Decode(text);
    if (!gate) return Context(gate.error(), "restoring the rollout gate of " + scope);
    gates_[scope] = std::move(*gate);
    // A halt or a wave in progress survives the restart: no grant before the budget is set.
    scheduler_.SetGrantBudget(scope, gates_[scope].GrantBudget());
  }
  pacer_.SetRate(loaded->bandwidth);
  connection_rate_ = loaded->connection_rate;
  scheduler_.SetPassiveReturnBudget(PassiveReturnBudget(connection_rate_));
  policies_ = std::move(loaded->policies);
  for (const auto& [scope, setting] : loaded->adaptive) {
    adaptive_.emplace(scope, Adaptive{setting, sched::AdaptiveLimit(RangeOf(setting))});
  }
  UpdateAdaptiveTimer();
  StartRollouts();  // gates still about an older version (e.g. a crash right after a change)
  Audit({.event = "server_start", .detail = std::to_string(loaded->leases.size()) + " leases restored"},
        "");
  ArmExpiryTimer();
  Log("upgrade")->info("throttle restored leases={} waiting={}", loaded->leases.size(),
                       loaded->waiters.size());
  return {};
}

void UpgradeCoordinator::SetLimit(const std::string& scope, int max_concurrent,
                                  std::function<void(Status)> done, const std::string& by) {
  const bool was_adaptive = adaptive_.contains(scope);
  ChangeLimit(
      scope, max_concurrent,
      store::WithActor("max_concurrent=" + std::to_string(max_concurrent), by),
      [scope](db::Database& db) { return store::SaveAdaptive(db, scope, std::nullopt); },
      [this, scope, was_adaptive, done = std::move(done)](Status saved) {
        if (saved && was_adaptive) {
          adaptive_.erase(scope);
          UpdateAdaptiveTimer();
        }
        if (done) done(saved);
      });
}

// The global knobs and the policy: saved with their audit row, then in effect.
void UpgradeCoordinator::SetBandwidth(uint64_t bytes_per_s, std::function<void(Status)> done,
                                      const std::string& by) {
  auto alive = lifetime_.Token();
  PersistWithAudit(
      [bytes_per_s](db::Database& db) {
        return store::SetBandwidthBytesPerS(db, static_cast<int64_t>(bytes_per_s));
      },
      AuditRow({.event = "bandwidth_change",
                .detail = store::WithActor(std::to_string(bytes_per_s) + " B/s", by)},
               ""),
      [this, alive, bytes_per_s, done = std::move(done)](Status saved) {
        if (saved && !alive.expired()) pacer_.SetRate(bytes_per_s);
        if (done) done(saved);
      });
}

void UpgradeCoordinator::SetConnectionRate(uint64_t per_s, std::function<void(Status)> done,
                                           const std::string& by) {
  auto alive = lifetime_.Token();
  PersistWithAudit(
      [per_s](db::Database& db) {
        return store::SetConnectionRatePerS(db, static_cast<int64_t>(per_s));
      },
      AuditRow({.event = "connection_rate_change",
                .detail = store::WithActor(std::to_string(per_s) + "/s", by)},
               ""),
      [this, alive, per_s, done = std::move(done)](Status saved) {
        if (saved && !alive.expired()) {
          connection_rate_ = per_s;
          scheduler_.SetPassiveReturnBudget(PassiveReturnBudget(per_s));
          if (on_connection_rate_changed) on_connection_rate_changed(per_s);
        }
        if (done) done(saved);
      });
}

void UpgradeCoordinator::SetPolicy(const std::string& kind, store::PolicySetting policy,
                                   std::function<void(Status)> done, const std::string& by) {
  auto alive = lifetime_.Token();
  PersistWithAudit(
      [kind, policy](db::Database& db) { return store::SetPolicy(db, kind, policy); },
      AuditRow({.event = "policy_change",
                .detail = store::WithActor(
                    std::string(store::UpgradePolicyName(policy.mode)) + " " + policy.version, by)},
               kind),
      [this, alive, kind, policy, done = std::move(done)](Status saved) {
        if (saved && !alive.expired()) {
          policies_[kind] = policy;
          ReevaluateConnected();
        }
        if (done) done(saved);
      });
}

bool UpgradeCoordinator::ManualUpgradeApplies(const std::string& kind) const {
  bool upgradable = false;
  for (std::string_view k : proto::UpgradableKinds()) upgradable = upgradable || k == kind;
  auto it = policies_.find(kind);
  return upgradable && it != policies_.end() && it->second.mode == store::UpgradePolicy::kDisabled;
}

Result<std::string> UpgradeCoordinator::AllowManualUpgrade(const std::string& client_id) {
  UpgradeClient* session = host_.clients->FindClient(client_id);
  const std::string kind =
      session ? std::string(proto::ToString(session->last_checkin().kind)) : std::string();
  if (session != nullptr && policies_[kind].mode != store::UpgradePolicy::kDisabled) {
    return Fail(Errc::kInvalidArgument,
                "manual upgrades are for kinds whose auto-upgrade policy is disabled");
  }
  manual_allowed_.insert(client_id);
  if (session == nullptr) return std::string("pending (upgrades at its next check-in)");
  Evaluate(*session);
  if (scheduler_.FindLeaseByClient(client_id)) return std::string("granted");
  if (scheduler_.FindWaiter(client_id)) return std::string("queued");
  return std::string("requested");
}

}  // namespace sluice::server
