#pragma once
// Restoring a backup into a data dir while sluiced is stopped (docs/admin.md, "Restore").
// Runs in sluicectl: it takes the data dir's lock, so a running server makes it refuse.
//
// It reads and verifies the whole backup into a staging dir first and checks it can run here;
// only then does it switch the data dir over (restore_journal.h), so every refusal leaves the
// data dir exactly as it was, and a crash leaves the old state or the new one.
//
// The restored database is adjusted on the way: its stored paths move to this data dir, and
// leases running when the backup was taken are made due, so the next start expires them
// through the throttle (their clients retry) — the limit holds across the restore.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "server/backup/backup_manifest.h"
#include "server/backup/restore_journal.h"

namespace sluice::backup {

struct RestoreOptions {
  std::string data_root{};  // made absolute
  std::string file{};
  std::string password{};
  std::function<void(uint64_t done, uint64_t total)> progress{};  // bytes of the backup file
  RestoreStepHook hook{};  // tests only (restore_journal.h); also called with "staged"
};

struct RestoreReport {
  Manifest manifest{};
  std::string data_root{};
  std::string previous_site_version{};  // what the data dir held before
  int leases_expired = 0;
  // Files the restored site refers to that this data dir lacks, with how each comes back.
  std::vector<OmittedFile> missing{};
};

// Errors (nothing in the data dir changed):
//   kAlreadyExists  a server (or another restore) is using the data dir;
//   kCorrupt        not a Sluice backup, truncated, a hash that fails, a bad manifest;
//   kAuth           a protected backup without or with the wrong password;
//   kUnsupportedVersion  a format or database schema from newer software, or a site or base
//                   version newer than this data dir has installed (the message says what to
//                   install first);
//   kIo             naming the path (e.g. a full disk while staging).
// A restore also ends a failover pair relationship the data dir had (the restored site stands
// alone; the pair key stays).
[[nodiscard]] Result<RestoreReport> RestoreBackup(const RestoreOptions& options);

// A failover pair's sync (server/pair): stages the primary's snapshot `file` (an unprotected
// backup) for the running backup server's data dir, whose lock that server holds, and links
// into it the packages the snapshot's site names (SHA-256 names, from the data dir's store or
// `fetched_dir`). Unlike a restore it keeps leases and the log as the primary had them. Returns
// the staging dir's name, for CommitRestore once the server closed its database; errors (kCorrupt,
// kUnsupportedVersion, kNotFound for a package, kIo) leave nothing behind.
[[nodiscard]] Result<std::string> StageSync(const std::string& data_root, const std::string& file,
                                            const std::vector<std::string>& packages,
                                            const std::string& fetched_dir);

}  // namespace sluice::backup
