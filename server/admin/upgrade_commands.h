#pragma once
// Admin commands of the throttle: site-set-version, limits, limits-set, policy-set, upgrade,
// rollout, audit (docs/admin.md, "Throttled upgrades", lists their JSON).

#include "server/admin/admin_server.h"
#include "server/site/settings_service.h"
#include "server/store/store.h"
#include "server/upgrade/upgrade_coordinator.h"

namespace sluice::server {

// `upgrades`, `settings` and `store` must outlive `admin`.
void RegisterUpgradeCommands(admin::AdminServer& admin, UpgradeCoordinator& upgrades,
                             SettingsService& settings, store::Store& store);

}  // namespace sluice::server
