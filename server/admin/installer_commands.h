#pragma once
// The installer admin commands (docs/admin.md, "Installers"):
//   installer-create  {kind, mode?, jump_group?, tag?, comments?, valid_for_ms?, overrides?,
//                      site_version?, creator?}              -> {"installer": INSTALLER}
//   installers        {}                                      -> {"installers": [INSTALLER],
//                                                                 "archive": [ARCHIVED]}
//   installer-extend  {id, valid_for_ms}                      -> {"installer": INSTALLER}
//   installer-delete  {id}                                    -> {"installer": INSTALLER}

#include <nlohmann/json.hpp>

#include "common/base/clock.h"
#include "server/admin/admin_server.h"
#include "server/installer/installer_service.h"
#include "server/store/store.h"

namespace sluice::server {

// Registers the commands above. `service` and `clock` outlive `admin`. Loop thread.
void RegisterInstallerCommands(admin::AdminServer& admin, InstallerService& service, Clock& clock,
                               store::Store& store);

// INSTALLER as the admin API shows it (`now_ms` decides "expired"). Pure.
nlohmann::json InstallerJson(const InstallerRecord& record, int64_t now_ms);

}  // namespace sluice::server
