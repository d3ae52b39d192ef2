#pragma once
// The package store's admin commands (docs/admin.md, "Packages and site version"):
//   package-add  {kind, platform, version, path, allow_downgrade?}  -> {"package": PACKAGE}
//   packages     {}                                                  -> {"packages": [PACKAGE]}
// PACKAGE is {kind, platform, version, sha256, size, allow_downgrade, created}.

#include <functional>

#include <nlohmann/json.hpp>

#include "common/base/clock.h"
#include "common/uv/loop.h"
#include "server/admin/admin_server.h"
#include "server/pkg/package_store.h"
#include "server/site/data_dir.h"
#include "server/store/store.h"

namespace sluice::server {

// Told of each package-add that was recorded (also when the same package was added before).
using PackageAdded = std::function<void(const PackageRecord&)>;

// Registers package-add and packages on `admin`. package-add copies the file (read by this
// process, so its path must be absolute) into dir.packages_dir on a worker thread, signs its
// manifest with dir.signing_key, then records it through `store`; it fails with kInternal when
// dir.signing_key is not loaded. Loop thread. `loop`, `store`, `dir` and `clock` must outlive
// `admin`; an import still running when `admin` is destroyed is cancelled (its temp file
// removed) and joined by the destruction.
void RegisterPackageCommands(admin::AdminServer& admin, uv::Loop& loop, store::Store& store,
                             const DataDir& dir, Clock& clock, PackageAdded added = {});

// The admin API's JSON for one package (PACKAGE above). Pure.
nlohmann::json PackageJson(const PackageRecord& record);

}  // namespace sluice::server
