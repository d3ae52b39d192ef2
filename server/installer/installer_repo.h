#pragma once
// Installer records in SQLite (tables installers, installer_archive, installer_enrollments of
// schema v4). Every function runs on the store thread inside a store job (see store.h).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/db/database.h"

namespace sluice::server {

// One built MSI of an installer.
struct InstallerBuild {
  std::string site_version{};
  std::string product_code{};
  std::string product_version{};
  std::string file{};      // absolute path under DATA_DIR/installers/<id>/
  std::string key_info{};  // the signed installer key in the MSI's KEY_INFO property
  int64_t built_ms = 0;
  int64_t expires_ms = 0;
};

struct InstallerRecord {
  std::string id{};
  int64_t created_ms = 0;
  std::string creator{};
  std::string kind{};
  std::string mode{};
  std::string jump_group{};
  std::string tag{};
  std::string comments{};
  std::vector<std::string> overrides{};
  std::string upgrade_code{};
  InstallerBuild build{};
  bool deleted = false;
  int64_t enrolled_clients = 0;  // filled by ListInstallers
};

struct ArchivedInstaller {
  std::string installer_id{};
  std::string site_version{};
  std::string product_code{};
  std::string product_version{};
  std::string file{};
  int64_t archived_ms = 0;
  std::string reason{};  // "site-version" or "extended"
};

// kAlreadyExists for a duplicate id; kDatabase otherwise.
[[nodiscard]] Status InsertInstaller(db::Database& db, const InstallerRecord& record);
// The installer with `id`, deleted or not.
[[nodiscard]] Result<std::optional<InstallerRecord>> FindInstaller(db::Database& db,
                                                                   const std::string& id);
// Installers not deleted, oldest first, with their enrolled-client counts.
[[nodiscard]] Result<std::vector<InstallerRecord>> ListInstallers(db::Database& db);
// Every archived MSI, oldest first.
[[nodiscard]] Result<std::vector<ArchivedInstaller>> ListInstallerArchive(db::Database& db);
// Makes `build` the installer's current MSI and archives the previous one with `reason`, if
// the installer is not deleted and its current ProductCode is still `replaced_product_code`.
// Returns false (changing nothing) otherwise.
[[nodiscard]] Result<bool> ReplaceInstallerBuild(db::Database& db, const std::string& id,
                                                 const std::string& replaced_product_code,
                                                 const InstallerBuild& build,
                                                 const std::string& reason, int64_t now_ms);
// Marks the installer deleted and returns it as it was (its files are the caller's to remove).
// kNotFound when there is no such live installer. Archived rows are removed with it.
[[nodiscard]] Result<InstallerRecord> DeleteInstaller(db::Database& db, const std::string& id,
                                                      std::vector<ArchivedInstaller>* archived);
// Records that `client_id` enrolled with the installer (group and tag as given to the client).
[[nodiscard]] Status RecordInstallerEnrollment(db::Database& db, const std::string& client_id,
                                               const std::string& installer_id,
                                               const std::string& jump_group,
                                               const std::string& tag, int64_t now_ms);

}  // namespace sluice::server
