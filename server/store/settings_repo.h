#pragma once
// Server settings: a key/value table. Plain functions over a connection; call them from a
// store job (or any thread that owns the db::Database).

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/error.h"
#include "common/db/database.h"

namespace sluice::store {

// Wall-clock ms of the latest site version change (written with the new version).
inline constexpr char kSiteVersionSinceKey[] = "site_version_since_ms";

// The value of `key`, or nullopt when unset. Errors: kDatabase.
[[nodiscard]] Result<std::optional<std::string>> GetSetting(db::Database& db, std::string_view key);

// Creates or replaces `key`. Errors: kDatabase.
[[nodiscard]] Status SetSetting(db::Database& db, std::string_view key, std::string_view value);

// Every setting, by key. Errors: kDatabase.
[[nodiscard]] Result<std::map<std::string, std::string>> AllSettings(db::Database& db);

}  // namespace sluice::store
