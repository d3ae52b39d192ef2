#include "server/store/settings_repo.h"

namespace sluice::store {

Result<std::optional<std::string>> GetSetting(db::Database& db, std::string_view key) {
  std::optional<std::string> value;
  auto read = db.Query(
      "SELECT value FROM settings WHERE key = ?1",
      [&value](const db::Statement& row) { value = row.Text(0); }, key);
  if (!read) return Context(read.error(), "reading setting " + std::string(key));
  return value;
}

Status SetSetting(db::Database& db, std::string_view key, std::string_view value) {
  auto written = db.Run(
      "INSERT INTO settings (key, value) VALUES (?1, ?2) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key, value);
  if (!written) return Context(written.error(), "writing setting " + std::string(key));
  return {};
}

Result<std::map<std::string, std::string>> AllSettings(db::Database& db) {
  std::map<std::string, std::string> settings;
  auto read = db.Query("SELECT key, value FROM settings", [&settings](const db::Statement& row) {
    settings.emplace(row.Text(0), row.Text(1));
  });
  if (!read) return Context(read.error(), "reading settings");
  return settings;
}

}  // namespace sluice::store
