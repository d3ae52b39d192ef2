#include "server/update/update_repo.h"

#include <nlohmann/json.hpp>

namespace sluice::server {

Result<std::vector<InstalledUpdate>> ListInstalledUpdates(db::Database& db) {
  std::vector<InstalledUpdate> updates;
  auto read = db.Query(
      "SELECT id, kind, version, depends_on, installed_ms, bundle_sha256, backup "
      "FROM installed_updates ORDER BY installed_ms, id",
      [&updates](const db::Statement& row) {
        auto depends = nlohmann::json::parse(row.Text(3), nullptr, false);
        InstalledUpdate update{.id = row.Text(0),
                               .kind = row.Text(1),
                               .version = row.Text(2),
                               .depends_on = {},
                               .installed_ms = row.Int64(4),
                               .bundle_sha256 = row.Text(5),
                               .backup = row.Text(6)};
        if (depends.is_array()) {
          for (const auto& id : depends) {
            if (id.is_string()) update.depends_on.push_back(id.get<std::string>());
          }
        }
        updates.push_back(std::move(update));
      });
  if (!read) return Context(read.error(), "reading installed updates");
  return updates;
}

Status InsertInstalledUpdate(db::Database& db, const InstalledUpdate& update) {
  auto written = db.Run(
      "INSERT INTO installed_updates "
      "(id, kind, version, depends_on, installed_ms, bundle_sha256, backup) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      update.id, update.kind, update.version, nlohmann::json(update.depends_on).dump(),
      update.installed_ms, update.bundle_sha256, update.backup);
  if (!written && written.error().code() == Errc::kAlreadyExists) {
    return Fail(Errc::kAlreadyExists, "update " + update.id + " is already installed");
  }
  if (!written) return Context(written.error(), "recording update " + update.id);
  return {};
}

}  // namespace sluice::server
