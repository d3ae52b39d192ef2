#pragma once
// Site-update admin commands (docs/admin.md, "Site updates"):
//   update-check         {}                          -> {"source", "base_version", "site_version",
//                                                        "updates": [UPDATE], "problems"}
//   update-install       {"id"}                      -> INSTALLED
//   update-install-file  {"path"}                    -> {"site_id", "installed", "skipped", ...}
//   update-download-key  {"valid_for_minutes"?}      -> {"key", "site_id", "expires", ...}
//   updates              {}                          -> {"updates": [INSTALLED_ROW]}

#include "common/base/clock.h"
#include "server/admin/admin_server.h"
#include "server/store/store.h"
#include "server/update/update_manager.h"

namespace sluice::server {

// Registers the commands above on `admin`. `updates`, `store` and `clock` must outlive `admin`.
// Each installed update is audited (update_install, with the actor). Loop thread.
void RegisterUpdateCommands(admin::AdminServer& admin, UpdateManager& updates, store::Store& store,
                            Clock& clock);

}  // namespace sluice::server
