// The coordinator's limit changes: fixed ones from the admin and adaptive ones from the
// controller (sched/adaptive_limit.h), both through ChangeLimit — saved with their audit row,
// then in effect.

#include "common/base/log.h"
#include "server/store/audit_repo.h"
#include "server/upgrade/upgrade_coordinator.h"

namespace sluice::server {

void UpgradeCoordinator::ChangeLimit(const std::string& scope, int limit, std::string detail,
                                     std::function<Status(db::Database&)> also,
                                     std::function<void(Status)> done) {
  const int before = scheduler_.Limit(scope);
  const uint64_t change = ++limit_changes_[scope];
  pending_limits_[scope] = limit;
  // Fewer grants are always safe, so a lowering applies at once; a raise waits for the commit.
  if (limit < before) scheduler_.SetLimit(scope, limit);
  store::AuditRow row = AuditRow({.event = "limit_change", .detail = std::move(detail)}, scope);
  auto alive = lifetime_.Token();
  host_.store->Submit<void>(
      [scope, limit, also = std::move(also), row = std::move(row)](db::Database& db) -> Status {
        if (auto saved = store::SaveLimit(db, scope, limit); !saved) return saved;
        if (also) {
          if (auto saved = also(db); !saved) return saved;
        }
        return store::AppendAuditRow(db, row);
      },
      [this, alive, scope, limit, before, change, done = std::move(done)](Status saved) {
        if (alive.expired()) return;
        if (saved) saved_limits_[scope] = limit;  // completions arrive in submission order
        if (limit_changes_[scope] == change) {  // no later change in flight: this one decides
          pending_limits_.erase(scope);
          // A failed change falls back to the last one saved (an earlier change may have been
          // saved while this one was pending), or to what was in effect before.
          auto last = saved_limits_.find(scope);
          scheduler_.SetLimit(scope, saved                        ? limit
                                     : last != saved_limits_.end() ? last->second
                                                                   : before);
          PushGrants();  // a raise (or a failed lowering) admits waiting clients at once
        }
        if (!saved) {
          Log("upgrade")->error(
              "limit change not saved, not in effect scope={} max_concurrent={} "
              "error=\"{}\"",
              scope, limit, saved.error().ToString());
        }
        if (done) done(saved);
      });
}

void UpgradeCoordinator::SetAdaptiveLimit(const std::string& scope, store::AdaptiveSetting setting,
                                          std::function<void(Status)> done, const std::string& by) {
  const int limit = std::clamp(scheduler_.Limit(scope), setting.min, setting.max);
  ChangeLimit(
      scope, limit,
      store::WithActor("max_concurrent=" + std::to_string(limit) + " auto [" +
                           std::to_string(setting.min) + ", " + std::to_string(setting.max) +
                           "] check-in p99 target " +
                           std::to_string(setting.checkin_p99_target_ms) + " ms",
                       by),
      [scope, setting](db::Database& db) { return store::SaveAdaptive(db, scope, setting); },
      [this, scope, setting, done = std::move(done)](Status saved) {
        if (saved) {
          adaptive_.insert_or_assign(scope,
                                     Adaptive{setting, sched::AdaptiveLimit(RangeOf(setting))});
          UpdateAdaptiveTimer();
        }
        if (done) done(saved);
      });
}

std::optional<store::AdaptiveSetting> UpgradeCoordinator::AdaptiveSettingOf(
    const std::string& scope) const {
  auto it = adaptive_.find(scope);
  if (it == adaptive_.end()) return std::nullopt;
  return it->second.setting;
}

void UpgradeCoordinator::UpdateAdaptiveTimer() {
  if (adaptive_.empty()) {
    adapt_timer_->Stop();
    load_monitor_.Stop();
  } else if (!load_monitor_.running()) {
    load_monitor_.Start();
    adapt_timer_->Start(options_.adapt_interval_ms, options_.adapt_interval_ms,
                        [this] { AdaptLimits(); });
  }
}

void UpgradeCoordinator::AdaptLimits() {
  const sched::LoadWindow window = load_monitor_.TakeWindow(pacer_.granted_bytes(), pacer_.rate());
  for (auto& [scope, adaptive] : adaptive_) {
    if (pending_limits_.contains(scope)) continue;  // judged again once the last change is in
    auto next = adaptive.controller.Next({.limit = scheduler_.Limit(scope),
                                          .running = scheduler_.Running(scope),
                                          .waiting = scheduler_.Waiting(scope)},
                                         window);
    if (!next) continue;
    Log("upgrade")->info("adaptive limit scope={} max_concurrent={} -> {} reason=\"{}\"", scope,
                         scheduler_.Limit(scope), next->limit, next->reason);
    ChangeLimit(scope, next->limit,
                "max_concurrent=" + std::to_string(next->limit) + " auto: " + next->reason, nullptr,
                nullptr);
  }
}

}  // namespace sluice::server
