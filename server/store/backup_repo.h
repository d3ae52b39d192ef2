#pragma once
// SQL for database copies: the one a backup takes (server/backup/backup_create.h) and the one
// a restore stages (server/backup/restore.h). Never run on the live database.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"
#include "common/db/database.h"

namespace sluice::store {

// The files a database refers to, by absolute path, and what the copy says about itself.
struct CopyInventory {
  struct Package {
    std::string kind{}, platform{}, version{}, sha256{}, path{};
    uint64_t size = 0;
  };
  struct Msi {
    std::string installer_id{}, site_version{}, path{};
  };
  int schema_version = 0;
  std::vector<Msi> current_msis{};  // of installers not deleted
  std::vector<Msi>
      archived_msis{};  // superseded ones (only they can uninstall what they installed)
  std::vector<Package> packages{};
};
[[nodiscard]] Result<CopyInventory> ReadInventory(db::Database& db);

// Deletes the logged history (the audit log) and compacts the file. The audit sequence keeps
// counting from where it was, so a restored log continues without reusing numbers.
[[nodiscard]] Status DropHistory(db::Database& db);

// Rewrites the absolute paths the database stores (installer MSIs, packages, pre-update
// copies) from under `old_root` to under `new_root`: a restore into another data dir.
[[nodiscard]] Status RebaseDataPaths(db::Database& db, std::string_view old_root,
                                     std::string_view new_root);

// Makes every lease due at once: its expiry becomes its grant time, so the next start expires
// it through the throttle's normal path (audited, the client back in line). Returns how many.
[[nodiscard]] Result<int> ExpireLeasesAtNextStart(db::Database& db);

}  // namespace sluice::store
