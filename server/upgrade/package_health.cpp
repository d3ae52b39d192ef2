// Packages whose file went missing or unreadable on the server (issue: a deleted
// packages/<sha256> made leases expire and be granted again forever). The package is reported
// once, its slots are freed, and its clients are refused instead of looping.

#include <vector>

#include "common/base/log.h"
#include "server/upgrade/upgrade_coordinator.h"

namespace sluice::server {
namespace {

std::string Describe(const std::string& kind, const std::string& platform,
                     const std::string& version) {
  return kind + " " + platform + " " + version;
}

}  // namespace

void UpgradeCoordinator::OnPackageUnreadable(uint64_t lease_id, const Error& error) {
  const sched::Lease* live = scheduler_.FindLease(lease_id);
  if (live == nullptr) return;
  auto wanted = wanted_.find(live->client_id);
  if (wanted == wanted_.end()) return;
  const PackageKey key = wanted->second;
  const std::string what = Describe(key.kind, key.platform, key.version);
  const std::string reason = "the package file of " + what + " cannot be read (" + error.message() +
                             "); add the package again";
  if (broken_packages_.emplace(key, reason).second) {
    Log("upgrade")->error("package unusable package=\"{}\" error=\"{}\"", what, error.ToString());
    Audit({.event = store::audit_event::kPackageMissing, .version = key.version, .detail = reason},
          key.kind);
  }
  // Everyone who needs this package — the client whose download failed, others holding a slot
  // for it, those in line — is refused rather than granted the same unreadable file. A slot
  // ends as a fail the rollout gate does not count: no client failed.
  std::vector<std::string> affected;
  for (const auto& [client_id, wanted_key] : wanted_) {
    if (wanted_key == key) affected.push_back(client_id);
  }
  // Those still in line leave it first, so no slot freed below goes to one of them; grants the
  // scheduler already made are persisted (queued) before any of their ends, so the audit log
  // always shows a grant before its fail.
  for (const std::string& client_id : affected) {
    if (!scheduler_.FindLeaseByClient(client_id)) scheduler_.Cancel(client_id);
  }
  PushGrants();
  for (const std::string& client_id : affected) {
    wanted_.erase(client_id);
    if (const std::optional<sched::Lease> held = scheduler_.FindLeaseByClient(client_id)) {
      scheduler_.Finish(held->id);
      EndLease(*held, store::audit_event::kFail, "server: " + reason);
    }
    if (UpgradeClient* session = host_.clients->FindClient(client_id)) {
      session->Send(
          proto::UpgradeRefused{.reason = proto::RefusalReason::kNoPackage, .message = reason});
    }
  }
  PushGrants();
}

bool UpgradeCoordinator::RefuseBrokenPackage(UpgradeClient& session, const PackageKey& key) {
  auto broken = broken_packages_.find(key);
  if (broken == broken_packages_.end()) return false;
  const PackageRecord* cached = CachedPackage(key);
  if (cached != nullptr && PackageFileState(*cached) == "ok") {
    Log("upgrade")->info("package usable again package=\"{}\"",
                         Describe(key.kind, key.platform, key.version));
    broken_packages_.erase(broken);
    return false;
  }
  session.Send(
      proto::UpgradeRefused{.reason = proto::RefusalReason::kNoPackage, .message = broken->second});
  return true;
}

std::string UpgradeCoordinator::BrokenPackage(const std::string& scope) const {
  for (const auto& [key, reason] : broken_packages_) {
    if (key.kind == scope && key.version == host_.settings->settings().site_version) return reason;
  }
  return {};
}

}  // namespace sluice::server
