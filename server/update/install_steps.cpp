#include "server/update/install_steps.h"

#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "common/base/c_ptr.h"
#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/crypto/random.h"
#include "common/db/database.h"
#include "server/pkg/package_import.h"

namespace sluice::server {
namespace {

std::string CompactUtc(int64_t wall_ms) {
  const std::time_t seconds = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y%m%dT%H%M%S", &tm);
  char millis[8];
  std::snprintf(millis, sizeof(millis), ".%03dZ", static_cast<int>(wall_ms % 1000));
  return std::string(text) + millis;
}

std::unexpected<Error> SqliteError(sqlite3* db, const std::string& what) {
  return Fail(Errc::kDatabase,
              what + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

Result<std::string> BackupDatabase(const std::string& db_path, const std::string& backups_dir,
                                   int64_t now_ms, std::string_view site_version,
                                   std::string_view base_version, std::string_view update_id) {
  if (auto made = EnsureDir(backups_dir, 0700); !made) return Context(made.error(), "backups");
  const std::string name =
      "sluice-" + CompactUtc(now_ms) + "-site-" + std::string(site_version) + "-base-" +
      (base_version.empty() ? std::string("none") : std::string(base_version)) + "-before-" +
      std::string(update_id) + ".db";
  const std::string path = backups_dir + "/" + name;
  const std::string temp = backups_dir + "/.partial-" + crypto::RandomHex(8) + ".db";

  auto source =
      db::Database::Open(db_path, {.wal = true, .busy_timeout_ms = 5000, .create = false});
  if (!source) return Context(source.error(), "opening the database to back it up");
  sqlite3* raw_dest = nullptr;
  const int opened =
      sqlite3_open_v2(temp.c_str(), &raw_dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  db::SqlitePtr dest(raw_dest);
  if (opened != SQLITE_OK) return SqliteError(raw_dest, "creating backup " + temp);
  sqlite3_backup* backup = sqlite3_backup_init(dest.get(), "main", (*source)->handle(), "main");
  if (backup == nullptr) return SqliteError(dest.get(), "starting the backup");
  int step = SQLITE_OK;
  do {
    step = sqlite3_backup_step(backup, 256);
    if (step == SQLITE_BUSY || step == SQLITE_LOCKED) sqlite3_sleep(20);
  } while (step == SQLITE_OK || step == SQLITE_BUSY || step == SQLITE_LOCKED);
  const int finished = sqlite3_backup_finish(backup);
  if (step != SQLITE_DONE || finished != SQLITE_OK) {
    auto error = SqliteError(dest.get(), "backing up the database to " + temp);
    dest.reset();
    ::unlink(temp.c_str());
    return error;
  }
  dest.reset();  // closes the file; SQLite synced it at the end of the backup
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return Fail(ErrnoError("renaming backup to", path, err));
  }
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

void MaybePauseForTest(std::string_view stage, const std::atomic<bool>& cancel) {
  const char* wanted = std::getenv("SLUICE_TEST_PAUSE_INSTALL");
  if (wanted == nullptr || stage != wanted) return;
  Log("update")->warn("install paused at {} (SLUICE_TEST_PAUSE_INSTALL)", stage);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  while (!cancel.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace sluice::server
