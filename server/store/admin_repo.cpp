#include "server/store/admin_repo.h"

namespace sluice::store {
namespace {

AdminRow ReadAdmin(const db::Statement& row) {
  return AdminRow{.name = row.Text(0),
                  .password_hash = row.Text(1),
                  .created_ms = row.Int64(2),
                  .changed_ms = row.Int64(3)};
}

std::string AdminContext(std::string_view what, std::string_view name) {
  return std::string(what) + " admin " + std::string(name);
}

}  // namespace

Status AddAdmin(db::Database& db, const AdminRow& row) {
  auto inserted = db.Run(
      "INSERT INTO admins (name, password_hash, created_ms, changed_ms) VALUES (?1, ?2, ?3, ?4)",
      row.name, row.password_hash, row.created_ms, row.changed_ms);
  if (!inserted && inserted.error().code() == Errc::kAlreadyExists) {
    return Fail(Errc::kAlreadyExists, "admin " + row.name + " already exists");
  }
  if (!inserted) return Context(inserted.error(), AdminContext("adding", row.name));
  return {};
}

Status SetAdminPasswordHash(db::Database& db, std::string_view name, std::string_view password_hash,
                            int64_t now_ms) {
  auto updated = db.Run("UPDATE admins SET password_hash = ?2, changed_ms = ?3 WHERE name = ?1",
                        name, password_hash, now_ms);
  if (!updated) return Context(updated.error(), AdminContext("changing the password of", name));
  if (db.Changes() == 0) return Fail(Errc::kNotFound, AdminContext("no", name));
  return {};
}

Status RemoveAdmin(db::Database& db, std::string_view name) {
  auto removed = db.Run("DELETE FROM admins WHERE name = ?1", name);
  if (!removed) return Context(removed.error(), AdminContext("removing", name));
  if (db.Changes() == 0) return Fail(Errc::kNotFound, AdminContext("no", name));
  return {};
}

Result<std::optional<AdminRow>> FindAdmin(db::Database& db, std::string_view name) {
  std::optional<AdminRow> found;
  auto read = db.Query(
      "SELECT name, password_hash, created_ms, changed_ms FROM admins WHERE name = ?1",
      [&found](const db::Statement& row) { found = ReadAdmin(row); }, name);
  if (!read) return Context(read.error(), AdminContext("reading", name));
  return found;
}

Result<std::optional<std::string>> GetAdminPasswordHash(db::Database& db, std::string_view name) {
  auto found = FindAdmin(db, name);
  if (!found) return Fail(found.error());
  if (!*found) return std::optional<std::string>();
  return std::optional<std::string>((*found)->password_hash);
}

Result<std::vector<AdminRow>> ListAdmins(db::Database& db) {
  std::vector<AdminRow> rows;
  auto read =
      db.Query("SELECT name, password_hash, created_ms, changed_ms FROM admins ORDER BY name",
               [&rows](const db::Statement& row) { rows.push_back(ReadAdmin(row)); });
  if (!read) return Context(read.error(), "listing admins");
  return rows;
}

}  // namespace sluice::store
