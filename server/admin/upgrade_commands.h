#pragma once
// Admin commands of the throttle: site-set-version, limits, limits-set, policy-set, upgrade,
// rollout, audit (docs/admin.md, "Throttled upgrades", lists their JSON).

#include "server/admin/admin_server.h"

namespace sluice::server {

class Server;

void RegisterUpgradeCommands(admin::AdminServer& admin, Server& server);

}  // namespace sluice::server
