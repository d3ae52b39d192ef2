#include "server/site/site_settings.h"

#include <charconv>

#include "common/base/version.h"

namespace sluice::server {
namespace {

Result<int> ParseIntIn(std::string_view key, std::string_view value, int low, int high) {
  int parsed = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (ec != std::errc() || end != value.data() + value.size() || parsed < low || parsed > high) {
    return Fail(Errc::kInvalidArgument, std::string(key) + " must be a whole number from " +
                                            std::to_string(low) + " to " + std::to_string(high) +
                                            ", got '" + std::string(value) + "'");
  }
  return parsed;
}

}  // namespace

Status SiteSettings::Set(std::string_view key, std::string_view value) {
  if (key == "site_version") {
    auto version = Version::Parse(value);
    if (!version) return Fail(version.error());
    site_version = std::string(value);
    return {};
  }
  if (key == "base_version") {
    if (value.empty()) {  // before the first base update, as the default says
      base_version.clear();
      return {};
    }
    auto version = Version::Parse(value);
    if (!version) return Fail(version.error());
    base_version = std::string(value);
    return {};
  }
  struct IntSetting {
    std::string_view name;
    int* field;
    int low;
    int high;
  };
  const IntSetting ints[] = {
      {"heartbeat_s", &heartbeat_s, 5, 3600},
      {"passive_checkin_s", &passive_checkin_s, 60, 24 * 3600},
      {"lost_after_days", &lost_after_days, 15, 3650},
      {"delete_after_days", &delete_after_days, 0, 3650},
      {"update_backups_kept", &update_backups_kept, 1, 1000},
      {"backup_every_hours", &backup_every_hours, 0, 24 * 366},
      {"backup_keep", &backup_keep, 1, 1000},
      {"pair_sync_every_minutes", &pair_sync_every_minutes, 1, 24 * 60},
  };
  for (const auto& setting : ints) {
    if (setting.name != key) continue;
    auto parsed = ParseIntIn(key, value, setting.low, setting.high);
    if (!parsed) return Fail(parsed.error());
    if (key == "delete_after_days" && *parsed != 0 && *parsed <= lost_after_days) {
      return Fail(Errc::kInvalidArgument,
                  "delete_after_days must be 0 (never) or more than lost_after_days (" +
                      std::to_string(lost_after_days) + ")");
    }
    if (key == "lost_after_days" && delete_after_days != 0 && *parsed >= delete_after_days) {
      return Fail(Errc::kInvalidArgument, "lost_after_days must be less than delete_after_days (" +
                                              std::to_string(delete_after_days) + ")");
    }
    *setting.field = *parsed;
    return {};
  }
  return Fail(Errc::kNotFound,
              "unknown setting '" + std::string(key) +
                  "' (known: site_version, base_version, heartbeat_s, passive_checkin_s, "
                  "lost_after_days, delete_after_days, update_backups_kept, backup_every_hours, "
                  "backup_keep, pair_sync_every_minutes)");
}

std::map<std::string, std::string> SiteSettings::ToMap() const {
  return {
      {"site_version", site_version},
      {"base_version", base_version},
      {"heartbeat_s", std::to_string(heartbeat_s)},
      {"passive_checkin_s", std::to_string(passive_checkin_s)},
      {"lost_after_days", std::to_string(lost_after_days)},
      {"delete_after_days", std::to_string(delete_after_days)},
      {"update_backups_kept", std::to_string(update_backups_kept)},
      {"backup_every_hours", std::to_string(backup_every_hours)},
      {"backup_keep", std::to_string(backup_keep)},
      {"pair_sync_every_minutes", std::to_string(pair_sync_every_minutes)},
  };
}

Result<SiteSettings> SiteSettings::FromMap(const std::map<std::string, std::string>& stored) {
  SiteSettings settings;
  // The two thresholds are checked against each other: clear delete_after_days so the stored
  // lost_after_days applies, then check the stored delete_after_days against it.
  if (stored.contains("delete_after_days")) settings.delete_after_days = 0;
  for (std::string_view key : {"site_version", "base_version", "heartbeat_s", "passive_checkin_s",
                               "lost_after_days", "delete_after_days", "update_backups_kept",
                               "backup_every_hours", "backup_keep", "pair_sync_every_minutes"}) {
    auto it = stored.find(std::string(key));
    if (it == stored.end()) continue;
    if (auto applied = settings.Set(key, it->second); !applied) {
      return Fail(Errc::kCorrupt, "stored setting: " + applied.error().message());
    }
  }
  return settings;
}

}  // namespace sluice::server
