#pragma once
// The `packages` table: one row per (kind, platform, version). Plain functions over a
// connection; call them from a store job (or any thread that owns the db::Database).

#include <optional>
#include <string_view>
#include <vector>

#include "common/base/error.h"
#include "common/db/database.h"
#include "server/pkg/package_store.h"

namespace sluice::server {

// Adds `record`. Adding again what is already stored under the same kind/platform/version — the
// same content (sha256, size) with the same allow_downgrade flag in its manifest — succeeds and
// changes nothing (the first record, with its created_ms and signature, stays).
// Errors: kAlreadyExists naming the package if that kind/platform/version holds other content
// or another allow_downgrade flag; kDatabase.
[[nodiscard]] Status InsertPackage(db::Database& db, const PackageRecord& record);

// The package stored under kind/platform/version, or nullopt. Errors: kDatabase.
[[nodiscard]] Result<std::optional<PackageRecord>> FindPackage(db::Database& db,
                                                               std::string_view kind,
                                                               std::string_view platform,
                                                               std::string_view version);

// Every package, ordered by kind, platform, then version (numerically: 1.10 after 1.9).
// Errors: kDatabase.
[[nodiscard]] Result<std::vector<PackageRecord>> ListPackages(db::Database& db);

}  // namespace sluice::server
