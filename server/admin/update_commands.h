#pragma once
// Site-update admin commands (docs/admin.md, "Site updates"):
//   update-check         {}                          -> {"source", "base_version", "site_version",
//                                                        "updates": [UPDATE], "problems"}
//   update-install       {"id"}                      -> INSTALLED
//   update-install-file  {"path"}                    -> {"site_id", "installed", "skipped", ...}
//   update-download-key  {"valid_for_minutes"?}      -> {"key", "site_id", "expires", ...}
//   updates              {}                          -> {"updates": [INSTALLED_ROW]}

#include "server/admin/admin_server.h"
#include "server/update/update_manager.h"

namespace sluice::server {

// Registers the commands above on `admin`. `updates` must outlive `admin`. Loop thread.
void RegisterUpdateCommands(admin::AdminServer& admin, UpdateManager& updates);

}  // namespace sluice::server
