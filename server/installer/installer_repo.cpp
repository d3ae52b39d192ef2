#include "server/installer/installer_repo.h"

#include <nlohmann/json.hpp>

namespace sluice::server {
namespace {

using nlohmann::json;

#define SLUICE_INSTALLER_COLUMNS                                                        \
  "id, created_ms, creator, kind, parameters, expires_ms, site_version, upgrade_code, " \
  "product_code, product_version, file, key_info, built_ms, deleted"

std::string Parameters(const InstallerRecord& r) {
  return json{{"mode", r.mode},
              {"jump_group", r.jump_group},
              {"tag", r.tag},
              {"comments", r.comments},
              {"overrides", r.overrides}}
      .dump();
}

InstallerRecord ReadInstaller(const db::Statement& row) {
  InstallerRecord r{.id = row.Text(0),
                    .created_ms = row.Int64(1),
                    .creator = row.Text(2),
                    .kind = row.Text(3),
                    .mode = "active",
                    .jump_group = {},
                    .tag = {},
                    .comments = {},
                    .overrides = {},
                    .upgrade_code = row.Text(7),
                    .build = {.site_version = row.Text(6),
                              .product_code = row.Text(8),
                              .product_version = row.Text(9),
                              .file = row.Text(10),
                              .key_info = row.Text(11),
                              .built_ms = row.Int64(12),
                              .expires_ms = row.Int64(5)},
                    .deleted = row.Int64(13) != 0,
                    .enrolled_clients = 0};
  json params = json::parse(row.Text(4), nullptr, false);
  if (params.is_object()) {
    r.mode = params.value("mode", "active");
    r.jump_group = params.value("jump_group", "");
    r.tag = params.value("tag", "");
    r.comments = params.value("comments", "");
    if (params.contains("overrides") && params["overrides"].is_array()) {
      for (const json& name : params["overrides"]) {
        if (name.is_string()) r.overrides.push_back(name.get<std::string>());
      }
    }
  }
  return r;
}

ArchivedInstaller ReadArchived(const db::Statement& row) {
  return ArchivedInstaller{.installer_id = row.Text(0),
                           .site_version = row.Text(1),
                           .product_code = row.Text(2),
                           .product_version = row.Text(3),
                           .file = row.Text(4),
                           .archived_ms = row.Int64(5),
                           .reason = row.Text(6)};
}

constexpr const char* kArchiveColumns =
    "installer_id, site_version, product_code, product_version, file, archived_ms, reason";

}  // namespace

Status InsertInstaller(db::Database& db, const InstallerRecord& r) {
  auto inserted = db.Run("INSERT INTO installers (" SLUICE_INSTALLER_COLUMNS
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 0)",
                         r.id, r.created_ms, r.creator, r.kind, Parameters(r), r.build.expires_ms,
                         r.build.site_version, r.upgrade_code, r.build.product_code,
                         r.build.product_version, r.build.file, r.build.key_info, r.build.built_ms);
  if (!inserted) return Context(inserted.error(), "recording installer " + r.id);
  return {};
}

Result<std::optional<InstallerRecord>> FindInstaller(db::Database& db, const std::string& id) {
  std::optional<InstallerRecord> found;
  auto read = db.Query(
      "SELECT " SLUICE_INSTALLER_COLUMNS " FROM installers WHERE id = ?1",
      [&found](const db::Statement& row) { found = ReadInstaller(row); }, id);
  if (!read) return Context(read.error(), "reading installer " + id);
  return found;
}

Result<std::vector<InstallerRecord>> ListInstallers(db::Database& db) {
  std::vector<InstallerRecord> list;
  auto read = db.Query(
      "SELECT " SLUICE_INSTALLER_COLUMNS
      ", (SELECT COUNT(*) FROM installer_enrollments e WHERE e.installer_id = installers.id)"
      " FROM installers WHERE deleted = 0 ORDER BY created_ms, id",
      [&list](const db::Statement& row) {
        list.push_back(ReadInstaller(row));
        list.back().enrolled_clients = row.Int64(14);
      });
  if (!read) return Context(read.error(), "listing installers");
  return list;
}

Result<std::vector<ArchivedInstaller>> ListInstallerArchive(db::Database& db) {
  std::vector<ArchivedInstaller> list;
  auto read = db.Query(std::string("SELECT ") + kArchiveColumns +
                           " FROM installer_archive ORDER BY archived_ms, installer_id",
                       [&list](const db::Statement& row) { list.push_back(ReadArchived(row)); });
  if (!read) return Context(read.error(), "listing archived installers");
  return list;
}

Result<bool> ReplaceInstallerBuild(db::Database& db, const std::string& id,
                                   const std::string& replaced_product_code,
                                   const InstallerBuild& build, const std::string& reason,
                                   int64_t now_ms) {
  auto current = FindInstaller(db, id);
  if (!current) return Fail(current.error());
  if (!*current || (*current)->deleted || (*current)->build.product_code != replaced_product_code) {
    return false;
  }
  const InstallerBuild& old = (*current)->build;
  auto archived =
      db.Run(std::string("INSERT INTO installer_archive (") + kArchiveColumns +
                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
             id, old.site_version, old.product_code, old.product_version, old.file, now_ms, reason);
  if (!archived) return Context(archived.error(), "archiving installer " + id);
  auto updated = db.Run(
      "UPDATE installers SET site_version = ?2, product_code = ?3, product_version = ?4, "
      "file = ?5, key_info = ?6, built_ms = ?7, expires_ms = ?8 WHERE id = ?1",
      id, build.site_version, build.product_code, build.product_version, build.file, build.key_info,
      build.built_ms, build.expires_ms);
  if (!updated) return Context(updated.error(), "updating installer " + id);
  return true;
}

Result<InstallerRecord> DeleteInstaller(db::Database& db, const std::string& id,
                                        std::vector<ArchivedInstaller>* archived) {
  auto current = FindInstaller(db, id);
  if (!current) return Fail(current.error());
  if (!*current || (*current)->deleted) {
    return Fail(Errc::kNotFound, "no installer " + id);
  }
  auto read = db.Query(
      std::string("SELECT ") + kArchiveColumns + " FROM installer_archive WHERE installer_id = ?1",
      [archived](const db::Statement& row) {
        if (archived != nullptr) archived->push_back(ReadArchived(row));
      },
      id);
  if (!read) return Fail(read.error());
  if (auto done = db.Run("DELETE FROM installer_archive WHERE installer_id = ?1", id); !done) {
    return Fail(done.error());
  }
  if (auto done = db.Run("UPDATE installers SET deleted = 1 WHERE id = ?1", id); !done) {
    return Fail(done.error());
  }
  return std::move(**current);
}

Status RecordInstallerEnrollment(db::Database& db, const std::string& client_id,
                                 const std::string& installer_id, const std::string& jump_group,
                                 const std::string& tag, int64_t now_ms) {
  auto done = db.Run(
      "INSERT OR REPLACE INTO installer_enrollments "
      "(client_id, installer_id, jump_group, tag, enrolled_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
      client_id, installer_id, jump_group, tag, now_ms);
  if (!done) return Context(done.error(), "recording enrollment of " + client_id);
  return {};
}

#undef SLUICE_INSTALLER_COLUMNS

}  // namespace sluice::server
