#include "server/upgrade/upgrade_coordinator.h"

#include "common/base/log.h"
#include "common/base/version.h"
#include "common/crypto/random.h"
#include "server/store/client_repo.h"
#include "server/store/lease_repo.h"
#include "server/store/limits_repo.h"

namespace sluice::server {
namespace {

// Whether clients of a kind with `policy` may be upgraded automatically to `site_version`.
bool Allows(const store::PolicySetting& policy, std::string_view site_version) {
  return policy.mode == store::UpgradePolicy::kAlways ||
         (policy.mode == store::UpgradePolicy::kThisVersionOnly && policy.version == site_version);
}

std::string OutcomeEvent(proto::UpgradeOutcome outcome) {
  switch (outcome) {
    case proto::UpgradeOutcome::kApplied: return "finish";
    case proto::UpgradeOutcome::kRolledBack: return "rollback";
    default: return "fail";
  }
}

sched::SchedulerOptions SchedulerOptionsFor(const UpgradeOptions& options) {
  return sched::SchedulerOptions{
      .lease_ttl_ms = options.lease_ttl_ms,
      .default_duration_ms = options.initial_estimate_ms,
      .retry = {.max_hold_ms = options.max_passive_hold_ms,
                .max_held = options.max_held_passive,
                .min_retry_ms = options.min_retry_ms},
      .jitter_seed = crypto::RandomU64(),
      .default_limit = options.default_limit};
}

}  // namespace

UpgradeCoordinator::UpgradeCoordinator(Host host, UpgradeOptions options)
    : host_(std::move(host)),
      options_(options),
      scheduler_(*host_.clock, SchedulerOptionsFor(options)),
      pacer_(*host_.loop),
      load_monitor_(*host_.loop),
      adapt_timer_(uv::Timer::Create(*host_.loop)),
      expiry_timer_(uv::Timer::Create(*host_.loop)) {}

UpgradeCoordinator::~UpgradeCoordinator() = default;

void UpgradeCoordinator::OnCheckedIn(UpgradeClient& session) { Evaluate(session); }

void UpgradeCoordinator::Evaluate(UpgradeClient& session) {
  const proto::Checkin& info = session.last_checkin();
  const std::string& site_version = host_.settings->settings().site_version;
  const std::string kind(proto::ToString(info.kind));
  auto mine = Version::Parse(info.version);
  auto site = Version::Parse(site_version);
  if (!mine || !site || *mine >= *site) {
    scheduler_.Cancel(session.client_id());
    return;
  }
  if (info.kind == proto::ClientKind::kIntegrationClient) {
    session.Send(proto::UpgradeRefused{
        .reason = proto::RefusalReason::kReinstallRequired,
        .message = "integration clients are not updated automatically; reinstall version " +
                   site_version});
    return;
  }
  const store::PolicySetting& policy = policies_[kind];
  if (!Allows(policy, site_version) && !manual_allowed_.contains(session.client_id())) {
    session.Send(proto::UpgradeRefused{
        .reason = proto::RefusalReason::kPolicyDisabled,
        .message = "auto-upgrade is " + std::string(store::UpgradePolicyName(policy.mode)) +
                   " for " + kind});
    return;
  }
  PackageKey key{kind, info.platform, site_version};
  if (RefuseBrokenPackage(session, key)) return;
  if (CachedPackage(key) != nullptr) {
    RequestSlot(session.connection_id(), key);
    return;
  }
  const uint64_t connection_id = session.connection_id();
  auto alive = lifetime_.Token();
  host_.store->Submit<std::optional<PackageRecord>>(
      [key](db::Database& db) { return FindPackage(db, key.kind, key.platform, key.version); },
      [this, alive, connection_id, key](Result<std::optional<PackageRecord>> found) {
        if (alive.expired()) return;
        UpgradeClient* session = host_.clients->FindConnection(connection_id);
        if (session == nullptr) return;
        if (!found || !found->has_value()) {
          session->Send(proto::UpgradeRefused{
              .reason = proto::RefusalReason::kNoPackage,
              .message = "no " + key.kind + " package for " + key.platform + " version " +
                         key.version});
          return;
        }
        CachePackage(key, std::move(**found));
        RequestSlot(connection_id, key);
      });
}

const PackageRecord* UpgradeCoordinator::CachedPackage(const PackageKey& key) const {
  auto it = packages_.find(key);
  return it == packages_.end() ? nullptr : &it->second;
}

void UpgradeCoordinator::CachePackage(const PackageKey& key, PackageRecord package) {
  uint64_t rate = options_.assumed_client_rate_bytes_per_s;
  if (pacer_.rate() > 0) {
    const auto slots = static_cast<uint64_t>(std::max(scheduler_.Limit(key.kind), 1));
    rate = std::min(rate, std::max<uint64_t>(pacer_.rate() / slots, 1));
  }
  const auto transfer_ms = static_cast<int64_t>(package.size * 1000 / std::max<uint64_t>(rate, 1));
  scheduler_.SetInitialEstimate(key.kind, options_.initial_estimate_ms + transfer_ms);
  packages_[key] = std::move(package);
}

std::function<Status(db::Database&)> UpgradeCoordinator::PersistEstimate(
    const std::string& scope) const {
  store::DurationRecord record{.estimate_ms = scheduler_.EstimatedDurationMs(scope),
                               .samples = scheduler_.DurationSamples(scope)};
  return [scope, record](db::Database& db) { return store::SaveDuration(db, scope, record); };
}

void UpgradeCoordinator::RequestSlot(uint64_t connection_id, const PackageKey& key) {
  UpgradeClient* session = host_.clients->FindConnection(connection_id);
  if (session == nullptr) return;
  const std::string client_id = session->client_id();
  wanted_[client_id] = key;
  const bool was_waiting = scheduler_.FindWaiter(client_id).has_value();
  auto decision = scheduler_.Request(client_id, key.kind, key.version, session->active());
  if (auto* granted = std::get_if<sched::Granted>(&decision)) {
    SendGrant(granted->lease);
    PushGrants();
    return;
  }
  const auto& queued = std::get<sched::Queued>(decision);
  if (!was_waiting) {
    auto waiter = scheduler_.FindWaiter(client_id);
    host_.store->Detach<void>(
        "upgrade: saving the place in line of client " + client_id,
        [client_id, scope = key.kind, first = waiter ? waiter->first_request_ms : 0](
            db::Database& db) { return store::SaveWaiter(db, client_id, scope, first); });
  }
  if (queued.hold_ms > 0) {
    // Held: the client closes after hold_s; the server gives it a little longer.
    session->SetIdleDeadline(static_cast<uint64_t>(queued.hold_ms) + 15'000);
  }
  session->Send(proto::UpgradeWait{
      .position = queued.position,
      .retry_after_s = static_cast<uint64_t>((queued.retry_after_ms + 999) / 1000),
      .hold_s = static_cast<uint64_t>((queued.hold_ms + 999) / 1000)});
}

void UpgradeCoordinator::SendGrant(const sched::Lease& lease) {
  // What the grant carries is copied now: `send` may run after a store round trip, and the
  // package cache may change meanwhile.
  auto wanted = wanted_.find(lease.client_id);
  const PackageRecord* cached = wanted == wanted_.end() ? nullptr : CachedPackage(wanted->second);
  std::optional<PackageRecord> package;
  if (cached != nullptr) package = *cached;
  auto send = [this, lease_id = lease.id, client_id = lease.client_id, package] {
    const sched::Lease* live = scheduler_.FindLease(lease_id);
    UpgradeClient* session = host_.clients->FindClient(client_id);
    if (live == nullptr || session == nullptr || !package) return;
    session->SetIdleDeadline(static_cast<uint64_t>(options_.lease_ttl_ms));
    session->Send(proto::UpgradeGrant{
        .lease_id = lease_id,
        .version = live->target_version,
        .manifest = package->manifest,
        .signature = package->signature,
        .lease_ttl_s = static_cast<uint64_t>(options_.lease_ttl_ms / 1000)});
  };
  if (persisted_leases_.contains(lease.id)) {
    send();  // a resumed lease: already durable
    return;
  }
  persisted_leases_.insert(lease.id);
  // The gate counts the grant in the same store job, so a crash never forgets a wave's grant.
  gates_[lease.scope].OnGranted();
  auto alive = lifetime_.Token();
  store::AuditRow audit = AuditRow({.event = "grant", .client_id = lease.client_id,
                                    .lease_id = lease.id, .version = lease.target_version},
                                   lease.scope, +1);
  host_.store->Submit<void>(
      [lease, audit, gate = PersistGate(lease.scope)](db::Database& db) -> Status {
        if (auto saved = store::SaveLease(db, lease); !saved) return saved;
        if (auto deleted = store::DeleteWaiter(db, lease.client_id); !deleted) return deleted;
        if (auto counted = gate(db); !counted) return counted;
        return store::AppendAuditRow(db, audit);
      },
      [alive, send](Status saved) {
        if (alive.expired()) return;
        if (!saved) {
          Log("upgrade")->error("could not persist a grant: {}", saved.error().ToString());
          return;  // never tell a client about a lease a crash could forget
        }
        send();
      });
}

void UpgradeCoordinator::HoldGrantsUntil(int64_t until_wall_ms) {
  scheduler_.HoldGrants(true);
  if (!hold_timer_) hold_timer_ = uv::Timer::Create(*host_.loop);
  hold_timer_->Stop();
  if (until_wall_ms == INT64_MAX) return;
  const int64_t delay = std::max<int64_t>(until_wall_ms - host_.clock->WallMs(), 0);
  Log("upgrade")->info(
      "no upgrade slots are granted for {} s (failover: leases granted by the "
      "old primary since the last sync may still run)",
      (delay + 999) / 1000);
  hold_timer_->Start(static_cast<uint64_t>(delay), 0, [this] { ResumeGrants(); });
}

void UpgradeCoordinator::ResumeGrants() {
  if (hold_timer_) hold_timer_->Stop();
  if (!scheduler_.grants_held()) return;
  scheduler_.HoldGrants(false);
  Log("upgrade")->info("granting upgrade slots again");
  PushGrants();
}

void UpgradeCoordinator::PushGrants() {
  for (const sched::Lease& lease : scheduler_.TakeGrants()) SendGrant(lease);
  ArmExpiryTimer();
}

void UpgradeCoordinator::OnResult(UpgradeClient& session, const proto::UpgradeResult& result) {
  // The version is stored, audited and counted (the clients census labels it): only a version
  // as check-ins send it, never arbitrary bytes.
  if (auto version = Version::Parse(result.version); !version) {
    session.SendErrorAndClose(proto::ErrorCode::kInvalidField,
                              "upgrade_result.version: " + version.error().message());
    return;
  }
  const sched::Lease* live = scheduler_.FindLease(result.lease_id);
  const std::string client_id = session.client_id();
  if (live != nullptr && live->client_id == client_id) {
    sched::Lease lease = *live;
    manual_allowed_.erase(client_id);
    wanted_.erase(client_id);
    RecordVersion(client_id, result);
    // Before the slot frees: nothing is granted past a halt.
    CountEnded(lease.scope, result.outcome != proto::UpgradeOutcome::kApplied);
    scheduler_.Finish(lease.id);
    EndLease(lease, OutcomeEvent(result.outcome),
             std::string(proto::ToString(result.outcome)) + ": " + result.detail,
             [this, client_id, lease_id = lease.id] { AcknowledgeResult(client_id, lease_id); },
             PersistGate(lease.scope));
    host_.store->Detach<void>("upgrade: saving the learned duration of " + lease.scope,
                              PersistEstimate(lease.scope));
    PushGrants();
    return;
  }
  // Not a live lease of this client. A report after its lease lapsed is recorded (freeing
  // nothing twice) if the audit log shows the lease was granted to this client; anything else
  // — another client's lease, a lease never granted — is refused and changes nothing. The
  // rollout gate never counts a late report: the slot it describes was already counted.
  const uint64_t connection_id = session.connection_id();
  const std::string scope(proto::ToString(session.last_checkin().kind));
  auto alive = lifetime_.Token();
  host_.store->Submit<bool>(
      [lease_id = result.lease_id, client_id](db::Database& db) {
        return store::LeaseGrantedTo(db, lease_id, client_id);
      },
      [this, alive, connection_id, client_id, scope, result](Result<bool> granted) {
        if (alive.expired()) return;
        UpgradeClient* session = host_.clients->FindConnection(connection_id);
        if (session == nullptr) return;
        if (!granted || !*granted) {
          session->SendErrorAndClose(
              granted ? proto::ErrorCode::kLeaseUnknown : proto::ErrorCode::kInternal,
              granted
                  ? "lease " + std::to_string(result.lease_id) + " was never granted to this client"
                  : std::string("could not look the lease up"));
          return;
        }
        manual_allowed_.erase(client_id);
        wanted_.erase(client_id);
        RecordVersion(client_id, result);
        store::AuditRow audit = AuditRow(
            {.event = OutcomeEvent(result.outcome), .client_id = client_id,
             .lease_id = result.lease_id, .version = result.version,
             .detail = "late report: " + std::string(proto::ToString(result.outcome))},
            scope);
        host_.store->Submit<int64_t>(
            [audit](db::Database& db) { return store::AppendAudit(db, audit); },
            [this, alive, client_id, lease_id = result.lease_id](Result<int64_t> saved) {
              if (!alive.expired() && saved) AcknowledgeResult(client_id, lease_id);
            });
      });
}

void UpgradeCoordinator::RecordVersion(const std::string& client_id,
                                       const proto::UpgradeResult& result) {
  if (result.outcome != proto::UpgradeOutcome::kApplied) return;
  host_.store->Detach<void>(
      "upgrade: recording version " + result.version + " of client " + client_id,
      [id = client_id, version = result.version](db::Database& db) {
        return store::SetVersion(db, id, version);
      });
}

// The ack goes out only once the outcome is durable: an acknowledged report is never lost.
void UpgradeCoordinator::AcknowledgeResult(const std::string& client_id, uint64_t lease_id) {
  UpgradeClient* session = host_.clients->FindClient(client_id);
  if (session == nullptr) return;
  session->Send(proto::UpgradeResultAck{.lease_id = lease_id});
  session->ResetIdleDeadline();
}

void UpgradeCoordinator::EndLease(const sched::Lease& lease, const std::string& event,
                                  const std::string& detail, std::function<void()> then,
                                  std::function<Status(db::Database&)> also) {
  // Wall time (leases outlive restarts); a clock stepped back counts as no time, not negative.
  host_.metrics->UpgradeEnded(lease.scope, event,
                              std::max<int64_t>(0, host_.clock->WallMs() - lease.granted_ms) / 1e3);
  StopDownload(lease.id);
  persisted_leases_.erase(lease.id);
  store::AuditRow audit = AuditRow({.event = event, .client_id = lease.client_id,
                                    .lease_id = lease.id, .version = lease.target_version,
                                    .detail = detail},
                                   lease.scope, -1);
  auto alive = lifetime_.Token();
  host_.store->Submit<void>(
      [id = lease.id, audit, also = std::move(also)](db::Database& db) -> Status {
        if (auto deleted = store::DeleteLease(db, id); !deleted) return deleted;
        if (also) {
          if (auto done = also(db); !done) return done;
        }
        return store::AppendAuditRow(db, audit);
      },
      [alive, then = std::move(then)](Status saved) {
        if (alive.expired()) return;
        if (!saved) {
          Log("upgrade")->error("could not persist a lease end: {}", saved.error().ToString());
          return;
        }
        if (then) then();
      });
}

void UpgradeCoordinator::OnClosed(UpgradeClient& session) {
  if (session.client_id().empty()) return;
  // Leases survive the connection (grace until expiry); the download stops.
  if (auto lease = scheduler_.FindLeaseByClient(session.client_id())) StopDownload(lease->id);
  scheduler_.Disconnect(session.client_id());
}

void UpgradeCoordinator::ArmExpiryTimer() {
  const int64_t next = scheduler_.NextExpiryMs();
  if (next == INT64_MAX) {
    expiry_timer_->Stop();
    return;
  }
  const int64_t delay = std::max<int64_t>(next - host_.clock->WallMs(), 0) + 10;
  expiry_timer_->Start(static_cast<uint64_t>(delay), 0, [this] { ExpireDue(); });
}

void UpgradeCoordinator::ExpireDue() {
  const std::vector<sched::Lease> expired = scheduler_.ExpireDue();
  std::set<std::string> scopes;
  for (const sched::Lease& lease : expired) {
    Log("upgrade")->info("lease expired lease={} client={}", lease.id, lease.client_id);
    gates_[lease.scope].OnExpired();  // a wave's grant comes back: the wave needs its outcome
    scopes.insert(lease.scope);
    // A restore makes the leases of its backup due by setting their expiry to their grant.
    const std::string why =
        lease.expires_ms <= lease.granted_ms
            ? std::string("running when the restored backup was taken")
            : "no progress for " + std::to_string(options_.lease_ttl_ms / 1000) + " s";
    EndLease(lease, "expire", why, nullptr, PersistGate(lease.scope));
    auto waiter = scheduler_.FindWaiter(lease.client_id);
    host_.store->Detach<void>(
        "upgrade: putting client " + lease.client_id + " back in line",
        [client_id = lease.client_id, scope = lease.scope,
         first = waiter ? waiter->first_request_ms : lease.granted_ms](db::Database& db) {
          return store::SaveWaiter(db, client_id, scope, first);
        });
    if (UpgradeClient* session = host_.clients->FindClient(lease.client_id);
        session && !session->active()) {
      session->Close();  // a passive client holding a dead lease comes back later
    }
  }
  // The grants the expiries made possible are recorded after the ends (their store jobs come
  // later) and counted by the gates before the gates' budgets go back to the scheduler.
  PushGrants();
  for (const std::string& scope : scopes) ApplyGate(scope);
}

store::AuditRow UpgradeCoordinator::AuditRow(store::AuditRow row, const std::string& scope,
                                             int running_delta) {
  row.scope = scope;
  row.wall_ms = host_.clock->WallMs();
  row.mono_ms = host_.clock->MonotonicMs();
  if (!scope.empty()) {
    int& running = audited_running_[scope];
    running += running_delta;
    row.running = running;
    // Rows stored after a limit change record its value, even before it is in effect.
    auto pending = pending_limits_.find(scope);
    row.limit_value = pending != pending_limits_.end() ? pending->second : scheduler_.Limit(scope);
  }
  return row;
}

void UpgradeCoordinator::PersistWithAudit(std::function<Status(db::Database&)> change,
                                          store::AuditRow audit,
                                          std::function<void(Status)> done) {
  host_.store->Submit<void>(
      [change = std::move(change), audit = std::move(audit)](db::Database& db) -> Status {
        if (auto changed = change(db); !changed) return changed;
        return store::AppendAuditRow(db, audit);
      },
      std::move(done));
}

void UpgradeCoordinator::Audit(store::AuditRow row, const std::string& scope) {
  std::string context = "upgrade: appending a " + row.event + " audit row";
  host_.store->Detach<int64_t>(
      std::move(context),
      [row = AuditRow(std::move(row), scope)](db::Database& db) { return store::AppendAudit(db, row); });
}

bool UpgradeCoordinator::AutoUpgrades(const std::string& kind) const {
  auto policy = policies_.find(kind);
  return Allows(policy == policies_.end() ? store::PolicySetting{} : policy->second,
                host_.settings->settings().site_version);
}

sched::ScopeForecastInput UpgradeCoordinator::ForecastInput(const std::string& scope,
                                                            size_t in_line,
                                                            size_t unseen_active) const {
  sched::ScopeForecastInput input{.limit = scheduler_.Limit(scope),
                                  .estimate_ms = scheduler_.SteadyDurationMs(scope),
                                  .in_line = in_line,
                                  .unseen_active = unseen_active,
                                  .connection_rate_per_s = static_cast<double>(connection_rate_)};
  if (pacer_.rate() > 0) {
    for (const auto& [key, package] : packages_) {
      if (key.kind != scope || key.version != host_.settings->settings().site_version) continue;
      const uint64_t shared = package.size * static_cast<uint64_t>(std::max(input.limit, 1));
      input.transfer_floor_ms =
          std::max(input.transfer_floor_ms, static_cast<int64_t>(shared * 1000 / pacer_.rate()));
    }
  }
  const int64_t now = host_.clock->WallMs();
  for (const sched::Lease& lease : scheduler_.Leases()) {
    if (lease.scope == scope) input.running_elapsed_ms.push_back(now - lease.granted_ms);
  }
  return input;
}

void UpgradeCoordinator::OnSiteVersionChanged() {
  PrunePackages();
  StartRollouts();
  ReevaluateConnected();
}

void UpgradeCoordinator::PrunePackages() {
  std::set<PackageKey> in_use;
  for (const auto& [client_id, key] : wanted_) in_use.insert(key);
  const std::string& site_version = host_.settings->settings().site_version;
  std::erase_if(packages_, [&](const auto& entry) {
    return entry.first.version != site_version && !in_use.contains(entry.first);
  });
}

void UpgradeCoordinator::ReevaluateConnected() {
  for (UpgradeClient* session : host_.clients->CheckedIn()) {
    // Connected clients: active ones, and passive ones held in the queue.
    auto waiter = scheduler_.FindWaiter(session->client_id());
    if (session->active() || (waiter && waiter->present)) Evaluate(*session);
  }
}

}  // namespace sluice::server
