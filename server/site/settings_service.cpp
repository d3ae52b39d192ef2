#include "server/site/settings_service.h"

#include <utility>

#include "common/base/log.h"
#include "server/store/settings_repo.h"

namespace sluice::server {

SettingsService::SettingsService(SettingsServiceOptions options)
    : options_(std::move(options)), settings_(options_.initial) {}

void SettingsService::Update(SettingChange change, std::function<void(Status)> done,
                             std::function<Status(db::Database&)> also_record) {
  SiteSettings updated = settings_;
  if (auto applied = updated.Set(change.key, change.value); !applied) {
    done(applied);
    return;
  }
  // When the site version last changed: the rollout forecast tells clients seen since then
  // from those that have not checked in yet.
  const bool version_moves = change.key == "site_version" && change.value != settings_.site_version;
  // Copied before `change` is moved into the completion (argument order is unspecified).
  std::string key = change.key;
  std::string value = change.value;
  options_.store->Submit<void>(
      [key = std::move(key), value = std::move(value), also_record = std::move(also_record),
       version_moves, now = options_.clock->WallMs()](db::Database& db) -> Status {
        if (also_record) {
          if (auto recorded = also_record(db); !recorded) return recorded;
        }
        if (version_moves) {
          if (auto set = store::SetSetting(db, store::kSiteVersionSinceKey, std::to_string(now));
              !set) {
            return set;
          }
        }
        return store::SetSetting(db, key, value);
      },
      lifetime_.Guard([this, updated = std::move(updated), change = std::move(change),
                       done = std::move(done)](Status saved) {
        if (saved) {
          settings_ = updated;
          Log("server")->info("setting changed key={} value={}", change.key, change.value);
          for (const auto& listener : listeners_) listener(change);
        }
        done(saved);
      }));
}

void SettingsService::OnChanged(std::function<void(const SettingChange&)> listener) {
  listeners_.push_back(std::move(listener));
}

}  // namespace sluice::server
