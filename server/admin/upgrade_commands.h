#pragma once
// Admin commands of the throttle: site-set-version, limits, limits-set, policy-set, upgrade,
// rollout, rollout-canary/resume/abort (docs/admin.md, "Throttled upgrades", lists their JSON).

#include "common/base/clock.h"
#include "server/admin/admin_server.h"
#include "server/site/settings_service.h"
#include "server/store/store.h"
#include "server/upgrade/upgrade_coordinator.h"

namespace sluice::server {

// `upgrades`, `settings`, `store` and `clock` must outlive `admin`. Every change carries the
// command's actor into its audit row (see UpgradeCoordinator); site-set-version and upgrade
// write settings_change and manual_upgrade rows.
// `reader` (a read-only Store of the same database) serves the rollout summary's counts.
void RegisterUpgradeCommands(admin::AdminServer& admin, UpgradeCoordinator& upgrades,
                             SettingsService& settings, store::Store& store, store::Store& reader,
                             Clock& clock);

}  // namespace sluice::server
