#pragma once
// Making a backup of a running site (docs/admin.md, "Backups"): one consistent copy of the
// database taken through the store while clients keep being served, the site's keys and
// certificate, the installers' current MSIs and the data dir's other small files, streamed
// into one backup file (backup_archive.h). Blocks: run it on a worker thread.
//
// What stays out is listed in the manifest with its size and SHA-256: client packages (they
// come back with the site update bundle or `package add`), archived MSIs, and other files of
// the data dir over kSmallFileBytes or beyond the first kSmallFilesMax (in path order).

#include <atomic>
#include <cstdint>
#include <string>

#include "common/base/error.h"
#include "common/crypto/password_box.h"
#include "server/backup/backup_manifest.h"
#include "server/store/store.h"

namespace sluice::backup {

inline constexpr uint64_t kSmallFileBytes = 200 * 1024;
inline constexpr size_t kSmallFilesMax = 50;
inline constexpr std::string_view kBackupSuffix = ".sluicebackup";

struct BackupOptions {
  std::string data_root{};  // absolute
  std::string out_dir{};    // the file is made here (created 0700)
  std::string password{};   // "" writes an unprotected file
  bool history = true;      // false leaves out the audit log
  int64_t now_ms = 0;
  crypto::ScryptParams scrypt{};
};

// Read by other threads while a backup runs.
struct BackupProgress {
  std::atomic<uint64_t> done{0};   // bytes: database copied, then bytes archived
  std::atomic<uint64_t> total{0};  // 0 until known
};

struct BackupMade {
  std::string path{};
  uint64_t size = 0;
  Manifest manifest{};
};

// Writes "<out_dir>/sluice-backup-<UTC>-site-<version><kBackupSuffix>" under a temp name and
// renames it when complete; partial files of an earlier crash are removed first. Errors: those
// of Store::BackupTo and BackupWriter; kClosed once `cancel` is set.
[[nodiscard]] Result<BackupMade> CreateBackup(store::Store& store, const BackupOptions& options,
                                              BackupProgress& progress,
                                              const std::atomic<bool>& cancel);

}  // namespace sluice::backup
