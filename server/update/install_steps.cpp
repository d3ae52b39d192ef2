#include "server/update/install_steps.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/base/time_format.h"
#include "common/crypto/random.h"
#include "server/pkg/package_import.h"

namespace sluice::server {

namespace {

constexpr std::string_view kBackupPrefix = "sluice-";
constexpr std::string_view kPartialPrefix = ".partial-";

// Deletes all but the newest `keep` copies (their names start with the UTC time, so name order
// is age order) and any partial copy a crash left behind.
void PruneBackups(const std::string& backups_dir, int keep) {
  std::vector<std::filesystem::path> copies;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(backups_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(kPartialPrefix)) {
      std::filesystem::remove(entry.path(), ec);
    } else if (name.starts_with(kBackupPrefix) && name.ends_with(".db")) {
      copies.push_back(entry.path());
    }
  }
  std::sort(copies.begin(), copies.end());
  const size_t kept = static_cast<size_t>(std::max(keep, 1));
  for (size_t i = 0; i + kept < copies.size(); ++i) {
    if (std::filesystem::remove(copies[i], ec)) {
      Log("update")->info("removed an old pre-update database copy path={}", copies[i].string());
    } else if (ec) {
      Log("update")->warn("cannot remove the old copy {}: {}", copies[i].string(), ec.message());
    }
  }
}

}  // namespace

Result<std::string> BackupDatabase(store::Store& store, const std::string& backups_dir,
                                   int64_t now_ms, std::string_view site_version,
                                   std::string_view base_version, std::string_view update_id,
                                   int keep) {
  if (auto made = EnsureDir(backups_dir, 0700); !made) return Context(made.error(), "backups");
  const std::string name =
      std::string(kBackupPrefix) + FormatCompactUtc(now_ms) + "-site-" + std::string(site_version) +
      "-base-" + (base_version.empty() ? std::string("none") : std::string(base_version)) +
      "-before-" + std::string(update_id) + ".db";
  const std::string path = backups_dir + "/" + name;
  const std::string temp =
      backups_dir + "/" + std::string(kPartialPrefix) + crypto::RandomHex(8) + ".db";

  if (auto copied = store.BackupTo(temp); !copied) return Fail(copied.error());
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return Fail(ErrnoError("renaming backup to", path, err));
  }
  PruneBackups(backups_dir, keep);
  return path;
}

Result<std::vector<PackageRecord>> ImportBundlePackages(const update::OpenedBundle& bundle,
                                                        const std::string& packages_dir,
                                                        const crypto::SigningKey& key,
                                                        int64_t now_ms,
                                                        const std::atomic<bool>& cancel) {
  if (auto made = EnsureDir(packages_dir, 0700); !made) {
    return Context(made.error(), "package store");
  }
  std::vector<PackageRecord> records;
  for (size_t i = 0; i < bundle.header.packages.size(); ++i) {
    if (cancel.load()) return Fail(Errc::kClosed, "update install cancelled");
    const auto& package = bundle.header.packages[i];
    const std::string temp = packages_dir + "/.update-" + crypto::RandomHex(8);
    if (auto extracted = update::ExtractPayload(bundle, i, temp); !extracted) {
      return Fail(extracted.error());
    }
    auto imported = ImportPackage(packages_dir, temp,
                                  {.kind = package.kind,
                                   .platform = package.platform,
                                   .version = package.version,
                                   .allow_downgrade = false},
                                  key, now_ms, &cancel);
    ::unlink(temp.c_str());
    if (!imported) {
      return Context(imported.error(), "importing " + package.kind + " " + package.platform);
    }
    records.push_back(std::move(*imported));
  }
  return records;
}

void MaybePauseForTest(std::string_view stage, std::string_view pause_at,
                       const std::atomic<bool>& cancel) {
  if (stage != pause_at) return;
  Log("update")->warn("install paused at {} (test hook --test-pause-install)", stage);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  while (!cancel.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace sluice::server
