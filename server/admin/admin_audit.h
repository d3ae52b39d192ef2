#pragma once
// Audit rows for admin changes whose service writes none itself (settings, manual upgrades,
// packages, installers, site updates): written once the change has succeeded, with the actor of
// the command's args ("...; by=<actor>").

#include <nlohmann/json.hpp>

#include "common/base/clock.h"
#include "server/store/audit_repo.h"
#include "server/store/store.h"

namespace sluice::server {

// Appends `row` (wall_ms = now, detail + "; by=<actor>") in a store job of its own. The change
// it records is already durable; a failure to append is logged and counted in failed_jobs(),
// and does not undo the change. Loop thread.
void AuditAdminChange(store::Store& store, const Clock& clock, store::AuditRow row,
                      const nlohmann::json& args);

}  // namespace sluice::server
