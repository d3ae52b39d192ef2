#pragma once
// The site's own admin commands on the admin socket (docs/admin.md lists their JSON): status,
// clients, client-config, settings and settings-set.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "common/base/clock.h"
#include "server/admin/admin_server.h"
#include "server/admin/fleet_commands.h"
#include "server/site/settings_service.h"
#include "server/store/store.h"

namespace sluice::server {

// What the site commands report about the running server and hand to new clients.
struct SiteFacts {
  std::string listen;              // "HOST:PORT" bound
  std::string advertised;          // "HOST:PORT" clients are told to use
  std::function<std::string()> certificate_pin;  // "sha256/...", as currently served
  std::string enrollment_key;      // the site's
  std::string signing_public_key;  // base64 of the site's package-signing public key
  int64_t started_ms = 0;
  std::function<size_t()> connection_count;
};

// Registers the commands above. `settings`, `store` and `clock` must outlive `admin`. `status`
// takes its client counts from `counts`, shared with `fleet`.
void RegisterAdminCommands(admin::AdminServer& admin, SiteFacts facts, SettingsService& settings,
                           store::Store& store, std::shared_ptr<ClientCountsRead> counts,
                           Clock& clock);

}  // namespace sluice::server
