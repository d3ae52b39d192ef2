#pragma once
// Backup admin commands (docs/admin.md, "Backups"):
//   backup-create  {"password"?, "unprotected"?, "no_history"?}  -> {"id"}
//   backup-status  {"id"?}  -> {"id", "state": none|running|done|failed, "scheduled", "done",
//                          "total", "started", "ended", "file", "size", "manifest", "error",
//                          "schedule": SCHEDULE (without "id")}
//   backup-schedule {"every_hours", "keep"?, "password"? | "unprotected"?} -> SCHEDULE
// SCHEDULE is {"every_hours", "keep", "password": "set"|"unprotected"|"missing", "dir",
// "files", "last", "next"}. A backup needs either a non-empty password or "unprotected": true,
// never neither; so does a schedule that is on.

#include "common/base/clock.h"
#include "server/admin/admin_server.h"
#include "server/backup/backup_service.h"
#include "server/site/settings_service.h"
#include "server/store/store.h"

namespace sluice::server {

// Registers the commands above on `admin`. `backups`, `settings`, `store` and `clock` must
// outlive `admin`. backup-schedule is audited as settings_change (never with the password).
// Loop thread.
void RegisterBackupCommands(admin::AdminServer& admin, backup::BackupService& backups,
                            SettingsService& settings, store::Store& store, Clock& clock);

}  // namespace sluice::server
