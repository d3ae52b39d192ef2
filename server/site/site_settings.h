#pragma once
// Admin-tunable site settings, persisted in the settings table. The loop thread keeps the
// current values in memory; every change is validated here first.

#include <map>
#include <string>
#include <string_view>

#include "common/base/error.h"

namespace sluice::server {

struct SiteSettings {
  // The version every client must reach.
  std::string site_version = "1.0.0";
  // The server's own base software version, set by installing a base update ("" before the
  // first one).
  std::string base_version;
  // Active clients send a heartbeat this often; silence for 3x this marks them offline.
  int heartbeat_s = 30;
  // Passive clients are told to come back after this long (jittered by the client).
  int passive_checkin_s = 4 * 3600;
  // Days without contact before a client is labelled lost (15 at least, as in the system we
  // replace), and before it is deleted (0: never; otherwise after lost_after_days).
  int lost_after_days = 30;
  int delete_after_days = 90;
  // Automatic database copies taken before site updates (DATA_DIR/backups): the newest this
  // many are kept, older ones deleted.
  int update_backups_kept = 5;
  // Scheduled backups (DATA_DIR/backups/full): one every this many hours (0: off), and the
  // newest this many kept.
  int backup_every_hours = 0;
  int backup_keep = 7;
  // A failover pair's backup pulls a sync from the primary this often (docs/admin.md,
  // "Failover pair").
  int pair_sync_every_minutes = 15;

  // Validates `value` for `key` and applies it. Errors: kInvalidArgument naming the key and
  // the accepted range, or kNotFound for an unknown key.
  [[nodiscard]] Status Set(std::string_view key, std::string_view value);
  std::map<std::string, std::string> ToMap() const;
  // Applies stored values over the defaults; an invalid stored value is an error (kCorrupt).
  [[nodiscard]] static Result<SiteSettings> FromMap(
      const std::map<std::string, std::string>& stored);
};

}  // namespace sluice::server
