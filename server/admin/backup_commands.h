#pragma once
// Backup admin commands (docs/admin.md, "Backups"):
//   backup-create  {"password"?, "unprotected"?, "no_history"?}  -> {"id"}
//   backup-status  {}  -> {"id", "state": none|running|done|failed, "done", "total",
//                          "started", "ended", "file", "size", "manifest", "error"}
// A backup needs either a non-empty password or "unprotected": true, never neither.

#include "server/admin/admin_server.h"
#include "server/backup/backup_service.h"

namespace sluice::server {

// Registers the commands above on `admin`. `backups` must outlive `admin`. Loop thread.
void RegisterBackupCommands(admin::AdminServer& admin, backup::BackupService& backups);

}  // namespace sluice::server
