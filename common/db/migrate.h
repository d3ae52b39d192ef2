#pragma once
// Schema migrations tracked in PRAGMA user_version.

#include <span>
#include <string_view>

#include "common/base/error.h"
#include "common/db/database.h"

namespace sluice::db {

// One schema step: running `sql` takes a database at version - 1 to `version`.
struct Migration {
  int version;
  std::string_view sql;
};

// Applies every migration whose version is above the database's user_version, in order, each
// in its own IMMEDIATE transaction that also sets user_version; a failed step leaves the
// database at the previous version. Already-applied steps are skipped, so re-running is a
// no-op. `migrations` must have versions 1, 2, 3, ... in ascending order.
// Errors: kInvalidArgument for a malformed list; kDatabase "database schema vN is newer than
// this build (vM)" when user_version is above the last migration; kDatabase when a step fails
// (the message names its version).
[[nodiscard]] Status Migrate(Database& db, std::span<const Migration> migrations);

// The database's PRAGMA user_version. Errors: kDatabase.
[[nodiscard]] Result<int> SchemaVersion(Database& db);

}  // namespace sluice::db
