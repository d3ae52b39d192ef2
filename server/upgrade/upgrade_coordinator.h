#pragma once
// The throttle, live: decides for each checked-in client whether it upgrades now, waits, or
// is refused; persists every grant before the client hears of it; streams packages; frees
// slots on results and expiry; pushes grants to waiting active clients the moment a slot frees.
// Loop thread only; SQLite work goes through the store thread.
//
// Ordering contract (what makes a crash harmless): a lease is counted in memory the moment it
// is granted and persisted before the grant is sent; a lease's end is persisted by a store job
// queued before any job that records a grant made possible by it. The store runs jobs in order,
// so after a crash the database never holds more live leases than the limit allowed.

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/base/clock.h"
#include "common/proto/messages.h"
#include "common/uv/lifetime.h"
#include "common/uv/loop.h"
#include "common/uv/timer.h"
#include "server/metrics/metrics.h"
#include "server/pkg/package_repo.h"
#include "server/pkg/package_store.h"
#include "server/sched/adaptive_limit.h"
#include "server/sched/forecast.h"
#include "server/sched/rollout_gate.h"
#include "server/sched/scheduler.h"
#include "server/site/settings_service.h"
#include "server/store/audit_repo.h"
#include "server/store/limits_repo.h"
#include "server/store/store.h"
#include "server/upgrade/bandwidth_pacer.h"
#include "server/upgrade/download_stream.h"
#include "server/upgrade/load_monitor.h"
#include "server/upgrade/upgrade_client.h"

namespace sluice::server {

struct UpgradeOptions {
  int64_t lease_ttl_ms = 120'000;
  // Per-kind limit until an admin sets one. 20 is a safe middle of the replaced system's 1-500:
  // a few hundred MiB in flight for typical packages, and slots refill as soon as one frees.
  int default_limit = 20;
  int64_t min_retry_ms = 5'000;
  // Before any upgrade of a kind has finished (ever: the learned estimate is persisted), one is
  // assumed to take initial_estimate_ms plus the package transfer at the per-client rate: the
  // bandwidth cap shared by the kind's slots, or assumed_client_rate when that is faster.
  int64_t initial_estimate_ms = 30'000;
  uint64_t assumed_client_rate_bytes_per_s = 1 << 20;
  // Queued passive clients whose slot is predicted within this are held connected
  // (sched::RetryOptions), at most max_held_passive at once.
  int64_t max_passive_hold_ms = 300'000;
  size_t max_held_passive = 5'000;
  // How often adaptive limits look at the server's load (one measurement window).
  uint64_t adapt_interval_ms = 1'000;
};

// Queued passive clients are sent away so that their returns use at most half the connection
// rate; the rest is for everyone else.
inline double PassiveReturnBudget(uint64_t connection_rate) {
  return static_cast<double>(connection_rate) / 2.0;
}

inline sched::AdaptiveRange RangeOf(const store::AdaptiveSetting& setting) {
  return {.min = setting.min,
          .max = setting.max,
          .checkin_p99_target_ms = setting.checkin_p99_target_ms};
}

class UpgradeCoordinator {
 public:
  struct Host {
    store::Store* store;
    Clock* clock;
    uv::Loop* loop;
    const SettingsService* settings;
    // The connected clients (completions look theirs up again; a site or policy change
    // re-evaluates them all).
    UpgradeClientDirectory* clients;
    // Counts ended upgrades, their durations and the package bytes sent. Required.
    metrics::Metrics* metrics;
  };

  UpgradeCoordinator(Host host, UpgradeOptions options);
  ~UpgradeCoordinator();

  // Loads limits, policies, leases and the queue; records server_start. Startup only (blocks).
  [[nodiscard]] Status Restore();

  void OnCheckedIn(UpgradeClient& session);
  void OnDownload(UpgradeClient& session, const proto::Download& download);
  void OnResult(UpgradeClient& session, const proto::UpgradeResult& result);
  void OnDrain(UpgradeClient& session);
  void OnClosed(UpgradeClient& session);

  // Admin changes: validated by the caller; each is persisted and audited, then applied (durable
  // first: a change that cannot be saved never takes effect; a lowered limit applies at once
  // and is restored if the save fails, since fewer grants are always safe).
  // A fixed limit ends the scope's adaptive limit. `by` (each change below takes one) is who
  // asked, "local:<user>" or "web:<admin>"; the audit row's detail ends with "; by=<by>"
  // (store::WithActor), or says nothing of it when empty.
  void SetLimit(const std::string& scope, int max_concurrent, std::function<void(Status)> done,
                const std::string& by = {});
  // --- The adaptive limit (adaptive_limits.cpp, docs/admin.md "Adaptive limit"). ---
  // Makes the scope's limit adaptive within [min, max]; the current limit is clamped into it.
  void SetAdaptiveLimit(const std::string& scope, store::AdaptiveSetting setting,
                        std::function<void(Status)> done, const std::string& by = {});
  std::optional<store::AdaptiveSetting> AdaptiveSettingOf(const std::string& scope) const;
  // The server's load as the adaptive limit sees it (check-ins are recorded by the sessions).
  LoadMonitor& load_monitor() { return load_monitor_; }
  void SetBandwidth(uint64_t bytes_per_s, std::function<void(Status)> done,
                    const std::string& by = {});
  void SetConnectionRate(uint64_t per_s, std::function<void(Status)> done,
                         const std::string& by = {});
  void SetPolicy(const std::string& kind, store::PolicySetting policy,
                 std::function<void(Status)> done, const std::string& by = {});
  // A one-off upgrade while the kind's policy is disabled; still respects the limit.
  [[nodiscard]] Result<std::string> AllowManualUpgrade(const std::string& client_id);
  // Whether AllowManualUpgrade applies to clients of `kind`: one the throttle upgrades, whose
  // policy is disabled.
  bool ManualUpgradeApplies(const std::string& kind) const;
  // The site moved: each kind's rollout starts (its canary wave, if set), and every connected
  // outdated client is evaluated now.
  void OnSiteVersionChanged();

  // --- Canary waves and automatic halts (rollout_gates.cpp, docs/admin.md). ---
  // Sets a kind's wave ("N", "P%", "" for none; from the next site version change) and its
  // failure threshold (at once). Validated here; durable before it takes effect.
  void SetGateSettings(const std::string& kind, store::GateSettings settings,
                       std::function<void(Status)> done, const std::string& by = {});
  // A halted rollout continues with its counts cleared (`rollout_resume`), or stops: the kind's
  // policy becomes disabled (`rollout_abort`). Errors: kInvalidArgument if not halted (resume).
  void ResumeRollout(const std::string& kind, std::function<void(Status)> done,
                     const std::string& by = {});
  void AbortRollout(const std::string& kind, std::function<void(Status)> done,
                    const std::string& by = {});
  // The kind's current rollout gate (phase, counts) and its settings.
  sched::RolloutGate Gate(const std::string& kind) const;
  store::GateSettings GateSettingsOf(const std::string& kind) const;

  // Why the current site version's package of `scope` cannot be served ("" when it can): its
  // file went missing or unreadable (package_health.cpp).
  std::string BrokenPackage(const std::string& scope) const;

  // --- A failover pair (docs/admin.md, "The limit across a failover"). ---
  // No grants until `until_wall_ms` (INT64_MAX: until ResumeGrants); running leases go on and
  // clients queue. Then the freed slots go to present waiters.
  void HoldGrantsUntil(int64_t until_wall_ms);
  void ResumeGrants();

  // Whether clients of `kind` upgrade automatically to the current site version.
  bool AutoUpgrades(const std::string& kind) const;
  // The forecast model's view of one scope (sched/forecast.h): limit, estimate, bandwidth
  // floor and running leases from the throttle; the client counts from the caller.
  sched::ScopeForecastInput ForecastInput(const std::string& scope, size_t in_line,
                                          size_t unseen_active) const;

  uint64_t connection_rate() const { return connection_rate_; }
  const sched::Scheduler& scheduler() const { return scheduler_; }
  const std::map<std::string, store::PolicySetting>& policies() const { return policies_; }
  uint64_t bandwidth() const { return pacer_.rate(); }
  // Called by the server when the connection-rate setting changes.
  std::function<void(uint64_t)> on_connection_rate_changed;

 private:
  struct PackageKey {
    std::string kind, platform, version;
    auto operator<=>(const PackageKey&) const = default;
  };
  struct Download {
    std::unique_ptr<DownloadStream> stream;
    uint64_t size = 0;
    int milestone = 0;  // last recorded quarter
  };

  void Evaluate(UpgradeClient& session);
  void RequestSlot(uint64_t connection_id, const PackageKey& key);
  void SendGrant(const sched::Lease& lease);
  void PushGrants();
  void OnProgress(uint64_t lease_id, uint64_t bytes_done);
  // An applied upgrade's new version goes to the client's row.
  void RecordVersion(const std::string& client_id, const proto::UpgradeResult& result);
  // Sends upgrade_result_ack to the client, if still connected (once the outcome is durable).
  void AcknowledgeResult(const std::string& client_id, uint64_t lease_id);
  // Frees a lease's slot; `then` runs once its end and audit row are durable.
  // `also` runs in the same store job (e.g. the gate's new counts).
  void EndLease(const sched::Lease& lease, const std::string& event, const std::string& detail,
                std::function<void()> then = nullptr,
                std::function<Status(db::Database&)> also = nullptr);
  void ArmExpiryTimer();
  void ExpireDue();
  // Completes an audit row (times, scope counts). Rows are written in the same store job as the
  // change they describe, so a crash never keeps one without the other.
  // `running_delta` is +1 for a grant row and -1 for a row that ends a live lease: rows record
  // the running count as a reader replaying them in order would see it.
  store::AuditRow AuditRow(store::AuditRow row, const std::string& scope, int running_delta = 0);
  void Audit(store::AuditRow row, const std::string& scope);
  // Runs `change` and appends `audit` in one store job; `done` gets the outcome.
  void PersistWithAudit(std::function<Status(db::Database&)> change, store::AuditRow audit,
                        std::function<void(Status)> done);
  void StopDownload(uint64_t lease_id);
  // A download found its package file missing or unreadable: the package is marked broken
  // (logged, audited once as package_missing), the lease ends as a fail that the rollout gate
  // does not count (not the client's fault), and the client is refused with no_package instead
  // of being granted the same unreadable file again.
  void OnPackageUnreadable(uint64_t lease_id, const Error& error);
  // Refuses `session` if its package is marked broken and its file is still unusable; a file
  // that is back clears the mark. Returns true when refused.
  bool RefuseBrokenPackage(UpgradeClient& session, const PackageKey& key);
  const PackageRecord* CachedPackage(const PackageKey& key) const;
  // Caches a package and, while its kind has no finished upgrade, sets the kind's estimate
  // from the package size and the bandwidth.
  void CachePackage(const PackageKey& key, PackageRecord package);
  // Forgets cached packages of older site versions that no client still downloads (a running
  // upgrade keeps its package until it ends).
  void PrunePackages();
  // Starts the gates of the current site version where they are about an older one.
  void StartRollouts();
  // Connected clients (active, and passive ones held in line) are evaluated again (after a
  // version or policy change).
  void ReevaluateConnected();
  void StartRollout(const std::string& scope, int64_t wave_size);
  // Flushes pending grants (so the gate has counted them), then gives the scheduler the gate's
  // grant budget and pushes what that admits.
  void ApplyGate(const std::string& scope);
  // The store change that records the gate of `scope` as it is now.
  std::function<Status(db::Database&)> PersistGate(const std::string& scope) const;
  // One upgrade of `scope` ended; halts the rollout (budget 0 at once, audited) if that meets
  // the threshold. Call before the scheduler frees the slot, so nothing is granted past a halt.
  void CountEnded(const std::string& scope, bool failed);
  // The one way a scope's limit changes: persisted with a limit_change row carrying `detail`
  // (and `also`, in the same store job), then applied; see SetLimit for lowering.
  void ChangeLimit(const std::string& scope, int limit, std::string detail,
                   std::function<Status(db::Database&)> also, std::function<void(Status)> done);
  // Every adaptive scope's controller looks at the last window; changes go through ChangeLimit.
  void AdaptLimits();
  // The load monitor and the once-a-second look run only while some scope is adaptive.
  void UpdateAdaptiveTimer();
  // The learned duration of `scope` is persisted with the lease end that taught it.
  std::function<Status(db::Database&)> PersistEstimate(const std::string& scope) const;

  Host host_;
  UpgradeOptions options_;
  sched::Scheduler scheduler_;
  BandwidthPacer pacer_;
  uint64_t connection_rate_ = 50;
  std::map<std::string, store::PolicySetting> policies_;
  std::map<std::string, sched::RolloutGate> gates_;          // per scope: the current rollout
  std::map<std::string, store::GateSettings> gate_settings_;  // per scope: as the admin set them
  struct Adaptive {
    store::AdaptiveSetting setting;
    sched::AdaptiveLimit controller;
  };
  std::map<std::string, Adaptive> adaptive_;       // per adaptive scope
  std::map<std::string, int> pending_limits_;      // per scope: a change saved but not committed
  std::map<std::string, uint64_t> limit_changes_;  // per scope: changes started (latest wins)
  std::map<std::string, int> saved_limits_;        // per scope: the last change saved this run
  LoadMonitor load_monitor_;
  uv::HandlePtr<uv::Timer> adapt_timer_;
  std::set<std::string> manual_allowed_;
  std::map<PackageKey, PackageRecord> packages_;
  std::map<PackageKey, std::string> broken_packages_;  // key -> why its file cannot be served
  std::unordered_map<std::string, PackageKey> wanted_;  // client -> package it waits for
  std::set<uint64_t> persisted_leases_;
  std::map<std::string, int> audited_running_;  // per scope, as the audit rows tell it
  std::unordered_map<uint64_t, Download> downloads_;  // by lease id
  uv::HandlePtr<uv::Timer> expiry_timer_;
  uv::HandlePtr<uv::Timer> hold_timer_;  // ends a grant hold (HoldGrantsUntil)
  uv::Lifetime lifetime_;  // guards completions that outlive this object
};

}  // namespace sluice::server
