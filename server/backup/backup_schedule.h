#pragma once
// Scheduled backups (docs/admin.md, "Scheduled backups"): every backup_every_hours sluiced
// takes a backup into DATA_DIR/backups/full and keeps the newest backup_keep there. The
// schedule's password is DATA_DIR/keys/backup-password (0600); an empty file means the admin
// chose unprotected backups, a missing one that no scheduled backup can be taken.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/base/error.h"

namespace sluice::backup {

// Backup files in `dir` ("sluice-backup-<UTC time>-..."), oldest first: their names start with
// the time they were made.
std::vector<std::string> ListBackupFiles(const std::string& dir);

// Removes all but the newest `keep` backup files of `dir`; returns the paths removed.
std::vector<std::string> KeepNewestBackups(const std::string& dir, int keep);

// When the newest backup file of `dir` was written (Unix ms); 0 when there is none.
int64_t LastBackupMs(const std::string& dir);

// A scheduled backup is due when the schedule is on and the last one is that old (or none).
bool ScheduledBackupDue(int every_hours, int64_t last_ms, int64_t now_ms);

std::string SchedulePasswordPath(const std::string& data_root);
// The password scheduled backups use: nullopt when none was set (no scheduled backup then),
// "" for unprotected by choice. Errors: kIo.
[[nodiscard]] Result<std::optional<std::string>> ReadSchedulePassword(const std::string& data_root);
// Stores it (written atomically, 0600); "" stores the choice of unprotected backups.
[[nodiscard]] Status WriteSchedulePassword(const std::string& data_root,
                                           const std::string& password);

}  // namespace sluice::backup
