#pragma once
// The blocking steps of installing an update, run on the update worker thread (never the loop
// thread). None of them changes what the site serves: that happens only in the final store
// transaction (UpdateManager), so a crash during any of them leaves the old version serving and
// a retry repeats them harmlessly.

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"
#include "common/crypto/ed25519.h"
#include "common/update/update_bundle.h"
#include "server/pkg/package_store.h"
#include "server/store/store.h"

namespace sluice::server {

// Copies the live database into `backups_dir` (created 0700) through the store's online backup
// (Store::BackupTo: the server keeps serving meanwhile). Blocks: call it from a worker thread.
// The file is "sluice-<UTC time, ms>-site-<site_version>-base-<base_version or none>-before-
// <update id>.db", written under a temp name and renamed when complete; then only the newest
// `keep` copies stay (and no partial copy of a crashed run). Returns its path.
// Errors: kDatabase, kIo naming the file.
[[nodiscard]] Result<std::string> BackupDatabase(store::Store& store,
                                                 const std::string& backups_dir, int64_t now_ms,
                                                 std::string_view site_version,
                                                 std::string_view base_version,
                                                 std::string_view update_id, int keep);

// Imports every package of `bundle` into the package store (server/pkg/package_import.h):
// each payload is extracted to a temp file in `packages_dir`, hash-checked, imported (content-
// addressed, so a retry finds the content already there) and signed with the site key.
// Returns the records to insert; nothing is recorded in the database here.
// Errors: those of ExtractPayload and ImportPackage; kClosed once `cancel` is set.
[[nodiscard]] Result<std::vector<PackageRecord>> ImportBundlePackages(
    const update::OpenedBundle& bundle, const std::string& packages_dir,
    const crypto::SigningKey& key, int64_t now_ms, const std::atomic<bool>& cancel);

// Test-only fault injection (SiteUpdateOptions::pause_install_at): when `pause_at` equals
// `stage`, logs "install paused at <stage>" and waits until `cancel` is set (at most 10
// minutes), so a test can kill the server mid-install.
void MaybePauseForTest(std::string_view stage, std::string_view pause_at,
                       const std::atomic<bool>& cancel);

}  // namespace sluice::server
