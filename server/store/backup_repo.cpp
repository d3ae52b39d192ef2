#include "server/store/backup_repo.h"

#include "common/db/migrate.h"

namespace sluice::store {

Result<CopyInventory> ReadInventory(db::Database& db) {
  CopyInventory inventory;
  auto version = db::SchemaVersion(db);
  if (!version) return Fail(version.error());
  inventory.schema_version = *version;
  auto current = db.Query(
      "SELECT id, site_version, file FROM installers WHERE deleted = 0 ORDER BY id",
      [&inventory](const db::Statement& row) {
        inventory.current_msis.push_back(
            {.installer_id = row.Text(0), .site_version = row.Text(1), .path = row.Text(2)});
      });
  if (!current) return Context(current.error(), "listing installers");
  auto archived = db.Query(
      "SELECT installer_id, site_version, file FROM installer_archive "
      "ORDER BY installer_id, archived_ms",
      [&inventory](const db::Statement& row) {
        inventory.archived_msis.push_back(
            {.installer_id = row.Text(0), .site_version = row.Text(1), .path = row.Text(2)});
      });
  if (!archived) return Context(archived.error(), "listing archived installers");
  auto packages = db.Query(
      "SELECT kind, platform, version, sha256, path, size FROM packages "
      "ORDER BY kind, platform, version",
      [&inventory](const db::Statement& row) {
        inventory.packages.push_back({.kind = row.Text(0),
                                      .platform = row.Text(1),
                                      .version = row.Text(2),
                                      .sha256 = row.Text(3),
                                      .path = row.Text(4),
                                      .size = static_cast<uint64_t>(row.Int64(5))});
      });
  if (!packages) return Context(packages.error(), "listing packages");
  return inventory;
}

Status DropHistory(db::Database& db) {
  if (auto done = db.Exec("DELETE FROM audit"); !done) return Context(done.error(), "history");
  if (auto done = db.Exec("VACUUM"); !done) return Context(done.error(), "compacting");
  return {};
}

Status RebaseDataPaths(db::Database& db, std::string_view old_root, std::string_view new_root) {
  if (old_root == new_root) return {};
  const std::string from = std::string(old_root) + "/";
  const std::string to = std::string(new_root) + "/";
  for (const auto& [table, column] : {std::pair{"installers", "file"},
                                      {"installer_archive", "file"},
                                      {"packages", "path"},
                                      {"installed_updates", "backup"}}) {
    const std::string sql = std::string("UPDATE ") + table + " SET " + column + " = ?2 || substr(" +
                            column + ", length(?1) + 1) WHERE substr(" + column +
                            ", 1, length(?1)) = ?1";
    if (auto done = db.Run(sql, from, to); !done) {
      return Context(done.error(), std::string("moving the paths of ") + table);
    }
  }
  return {};
}

Result<int> ExpireLeasesAtNextStart(db::Database& db) {
  if (auto done = db.Run("UPDATE leases SET expires_ms = granted_ms"); !done) {
    return Context(done.error(), "expiring leases");
  }
  return db.Changes();
}

}  // namespace sluice::store
