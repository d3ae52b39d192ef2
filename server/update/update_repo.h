#pragma once
// The `installed_updates` table: one row per site or base update installed on this server.
// Plain functions over a connection; call them from a store job.

#include <cstdint>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/db/database.h"

namespace sluice::server {

struct InstalledUpdate {
  std::string id{};
  std::string kind{};  // base | site
  std::string version{};
  std::vector<std::string> depends_on{};
  int64_t installed_ms = 0;
  std::string bundle_sha256{};
  std::string backup{};
};

// Every installed update, oldest first. Errors: kDatabase.
[[nodiscard]] Result<std::vector<InstalledUpdate>> ListInstalledUpdates(db::Database& db);

// Records `update`. Errors: kAlreadyExists naming the id if it is installed already; kDatabase.
[[nodiscard]] Status InsertInstalledUpdate(db::Database& db, const InstalledUpdate& update);

}  // namespace sluice::server
