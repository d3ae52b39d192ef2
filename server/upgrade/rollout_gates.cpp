// The coordinator's canary waves and automatic halts: one sched::RolloutGate per limit scope,
// persisted with every change behind it, its grant budget handed to the scheduler.

#include "common/base/log.h"
#include "common/base/version.h"
#include "server/store/audit_repo.h"
#include "server/store/client_repo.h"
#include "server/store/limits_repo.h"
#include "server/upgrade/upgrade_coordinator.h"

namespace sluice::server {
namespace {

sched::GateAmount Amount(const std::string& text) {
  auto parsed = sched::ParseGateAmount(text);
  return parsed ? *parsed : sched::GateAmount{};  // stored values were validated when set
}

}  // namespace

std::function<Status(db::Database&)> UpgradeCoordinator::PersistGate(
    const std::string& scope) const {
  auto it = gates_.find(scope);
  const std::string encoded = it == gates_.end() ? sched::RolloutGate().Encode() : it->second.Encode();
  return [scope, encoded](db::Database& db) { return store::SaveRolloutGate(db, scope, encoded); };
}

void UpgradeCoordinator::ApplyGate(const std::string& scope) {
  PushGrants();  // grants already made are counted by the gate before its budget is read
  scheduler_.SetGrantBudget(scope, gates_[scope].GrantBudget());
  PushGrants();
}

void UpgradeCoordinator::StartRollouts() {
  const std::string& version = host_.settings->settings().site_version;
  for (std::string_view kind : proto::UpgradableKinds()) {
    const std::string scope(kind);
    if (gates_[scope].state().version == version) continue;  // this rollout already started
    const sched::GateAmount wave = Amount(gate_settings_[scope].canary);
    if (!wave.percent) {
      StartRollout(scope, sched::WaveSize(wave, 1));
      continue;
    }
    // P % of the kind's outdated clients: count them first, granting nothing meanwhile.
    scheduler_.SetGrantBudget(scope, 0);
    auto alive = lifetime_.Token();
    host_.store->Submit<int64_t>(
        [scope, version](db::Database& db) -> Result<int64_t> {
          auto clients = store::ListClients(db);
          if (!clients) return Fail(clients.error());
          auto site = Version::Parse(version);
          int64_t outdated = 0;
          for (const auto& row : *clients) {
            auto mine = Version::Parse(row.version);
            if (row.kind == scope && site && mine && *mine < *site) ++outdated;
          }
          return outdated;
        },
        [this, alive, scope, wave](Result<int64_t> outdated) {
          if (alive.expired()) return;
          if (!outdated) {
            // Without the count the wave cannot be sized: the scope stays closed and says why.
            Log("upgrade")->error("cannot size the canary wave of {}: {}", scope,
                                  outdated.error().ToString());
            return;
          }
          StartRollout(scope, sched::WaveSize(wave, *outdated));
        });
  }
}

void UpgradeCoordinator::StartRollout(const std::string& scope, int64_t wave_size) {
  gates_[scope].Start(host_.settings->settings().site_version, wave_size);
  if (wave_size > 0) {
    Audit({.event = "rollout_wave", .detail = "canary wave of " + std::to_string(wave_size)},
          scope);
  }
  host_.store->Detach<void>("upgrade: saving the rollout gate of " + scope, PersistGate(scope));
  ApplyGate(scope);
}

void UpgradeCoordinator::CountEnded(const std::string& scope, bool failed) {
  sched::RolloutGate& gate = gates_[scope];
  const sched::RolloutGate::Phase before = gate.state().phase;
  if (!gate.OnEnded(failed, Amount(gate_settings_[scope].halt_after))) {
    if (gate.state().phase != before) ApplyGate(scope);  // the wave passed: the rollout opens
    return;
  }
  scheduler_.SetGrantBudget(scope, 0);
  Log("upgrade")->warn("rollout halted scope={} reason=\"{}\"", scope, gate.state().halt_reason);
  PersistWithAudit(PersistGate(scope),
                   AuditRow({.event = "rollout_halt", .detail = gate.state().halt_reason}, scope),
                   [scope](Status saved) {
                     if (!saved) {
                       Log("upgrade")->error("rollout halt not saved scope={} error=\"{}\"", scope,
                                             saved.error().ToString());
                     }
                   });
}

void UpgradeCoordinator::SetGateSettings(const std::string& kind, store::GateSettings settings,
                                         std::function<void(Status)> done, const std::string& by) {
  for (std::string* text : {&settings.canary, &settings.halt_after}) {
    auto amount = sched::ParseGateAmount(*text);
    if (!amount) {
      done(Fail(Errc::kInvalidArgument, "'" + *text + "': " + amount.error().message()));
      return;
    }
    *text = amount->ToString();  // one spelling: "0" is stored as ""
  }
  auto alive = lifetime_.Token();
  PersistWithAudit(
      [kind, settings](db::Database& db) { return store::SaveGateSettings(db, kind, settings); },
      AuditRow(
          {.event = "gate_change",
           .detail = store::WithActor(
               "canary=" + (settings.canary.empty() ? "none" : settings.canary) +
                   " halt_after=" + (settings.halt_after.empty() ? "none" : settings.halt_after),
               by)},
          kind),
      [this, alive, kind, settings, done = std::move(done)](Status saved) {
        if (!alive.expired() && saved) gate_settings_[kind] = settings;  // durable, then in effect
        done(saved);
      });
}

void UpgradeCoordinator::ResumeRollout(const std::string& kind, std::function<void(Status)> done,
                                       const std::string& by) {
  if (!gates_[kind].halted()) {
    done(Fail(Errc::kInvalidArgument, "the " + kind + " rollout is not halted"));
    return;
  }
  sched::RolloutGate resumed = gates_[kind];
  resumed.Resume();
  auto alive = lifetime_.Token();
  PersistWithAudit(
      [kind, encoded = resumed.Encode()](db::Database& db) {
        return store::SaveRolloutGate(db, kind, encoded);
      },
      AuditRow({.event = "rollout_resume",
                .detail = store::WithActor("was: " + gates_[kind].state().halt_reason, by)},
               kind),
      [this, alive, kind, resumed, done = std::move(done)](Status saved) {
        if (!alive.expired() && saved) {
          gates_[kind] = resumed;
          ApplyGate(kind);
        }
        done(saved);
      });
}

void UpgradeCoordinator::AbortRollout(const std::string& kind, std::function<void(Status)> done,
                                      const std::string& by) {
  // Stopping means: this kind no longer upgrades on its own. Running upgrades finish; waiting
  // clients are told auto-upgrade is disabled. The halt is cleared with its counts, so that a
  // later `policy set` starts afresh.
  Audit(
      {.event = "rollout_abort", .detail = store::WithActor(gates_[kind].state().halt_reason, by)},
      kind);
  SetPolicy(
      kind, store::PolicySetting{.mode = store::UpgradePolicy::kDisabled},
      [this, alive = lifetime_.Token(), kind, done = std::move(done)](Status set) {
        if (!alive.expired() && set) {
          gates_[kind].Resume();
          host_.store->Detach<void>("upgrade: saving the rollout gate of " + kind,
                                    PersistGate(kind));
          ApplyGate(kind);
        }
        done(set);
      },
      by);
}

sched::RolloutGate UpgradeCoordinator::Gate(const std::string& kind) const {
  auto it = gates_.find(kind);
  return it == gates_.end() ? sched::RolloutGate() : it->second;
}

store::GateSettings UpgradeCoordinator::GateSettingsOf(const std::string& kind) const {
  auto it = gate_settings_.find(kind);
  return it == gate_settings_.end() ? store::GateSettings{} : it->second;
}

}  // namespace sluice::server
