#pragma once
// The admin commands sluiced serves on its admin socket (docs/admin.md lists their JSON).

#include "server/admin/admin_server.h"

namespace sluice::server {

class Server;

// Registers status, clients, client-config, settings and settings-set. `server` outlives `admin`.
void RegisterAdminCommands(admin::AdminServer& admin, Server& server);

}  // namespace sluice::server
