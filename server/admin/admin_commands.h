#pragma once
// The site's own admin commands on the admin socket (docs/admin.md lists their JSON): status,
// clients, client-config, settings and settings-set.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "common/base/clock.h"
#include "server/admin/admin_server.h"
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

// Registers the commands above. `settings`, `store` and `clock` must outlive `admin`.
// `reader` (a read-only Store of the same database) serves status's client counts.
void RegisterAdminCommands(admin::AdminServer& admin, SiteFacts facts, SettingsService& settings,
                           store::Store& store, store::Store& reader, Clock& clock);

}  // namespace sluice::server
