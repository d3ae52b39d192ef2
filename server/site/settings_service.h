#pragma once
// The site's settings while it runs (docs/admin.md, "Settings"): the values in effect, and the
// one way to change one. A change is validated, saved (with whatever the caller records beside
// it, in the same store job), then put in effect, then announced to the listeners (durable
// first: a change that cannot be saved never takes effect).
//
// Threads: loop thread only; saving goes through the store thread.

#include <functional>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/db/database.h"
#include "common/uv/lifetime.h"
#include "server/site/site_settings.h"
#include "server/store/store.h"

namespace sluice::server {

struct SettingsServiceOptions {
  store::Store* store = nullptr;
  Clock* clock = nullptr;
  SiteSettings initial{};  // as loaded at start
};

// What a change asks of the rest of the server once it is in effect.
struct SettingChange {
  std::string key, value;
  // Every connected client is to reconnect now (a site update changed the server under them).
  bool reconnect_clients = false;
};

class SettingsService {
 public:
  explicit SettingsService(SettingsServiceOptions options);

  const SiteSettings& settings() const { return settings_; }

  // Sets `key` to `value`. `also_record` runs in the same store job as the write (both land or
  // neither). Errors: those of SiteSettings::Set, and the store's.
  void Update(SettingChange change, std::function<void(Status)> done,
              std::function<Status(db::Database&)> also_record = nullptr);

  // `listener` is told of every change once it is in effect, in the order listeners were added.
  void OnChanged(std::function<void(const SettingChange&)> listener);

 private:
  SettingsServiceOptions options_;
  SiteSettings settings_;
  std::vector<std::function<void(const SettingChange&)>> listeners_;
  uv::Lifetime lifetime_;
};

}  // namespace sluice::server
