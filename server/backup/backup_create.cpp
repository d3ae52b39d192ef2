#include "server/backup/backup_create.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/base/time_format.h"
#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"
#include "common/crypto/random.h"
#include "server/backup/backup_archive.h"
#include "server/site/site_settings.h"
#include "server/store/backup_repo.h"
#include "server/store/settings_repo.h"

namespace sluice::backup {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPartialPrefix = ".partial-";

// Directories of the data dir that are backed up entirely (the site's identity).
constexpr std::string_view kIdentityDirs[] = {"keys", "tls"};
// Directories handled on their own: the live database (copied through the store) and the
// installers (their current MSIs, through the database's records). The server's own (run-time
// files, backups, packages, caches: ServerOwned) are never backed up.
constexpr std::string_view kHandledDirs[] = {"db", "installers"};

// The scheduled backups' password (backup_schedule.h) stays out of every backup.
constexpr std::string_view kSchedulePasswordName = "keys/backup-password";

bool Among(std::string_view name, std::span<const std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string Relative(const std::string& root, const std::string& path) {
  return fs::path(path).lexically_relative(root).generic_string();
}

bool UnderRoot(const std::string& relative) {
  return !relative.empty() && !relative.starts_with("..") && !relative.starts_with('/');
}

std::string FileSha256(const std::string& path) { return crypto::Sha256FileHex(path).value_or(""); }

void RemovePartials(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().starts_with(kPartialPrefix)) fs::remove(entry.path(), ec);
  }
}

// Files to back up beside the database, as (entry name, path), and the manifest's omissions.
struct Plan {
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<OmittedFile> omitted;
  uint64_t bytes = 0;
};

void PlanIdentityAndSmallFiles(const std::string& root, Plan& plan) {
  std::vector<std::string> identity, others;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string relative = Relative(root, it->path().string());
    const std::string top = relative.substr(0, relative.find('/'));
    if (top.starts_with('.') || ServerOwned(top) || Among(top, kHandledDirs)) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || it->is_symlink()) continue;
    if (relative == kSchedulePasswordName) continue;  // the schedule's, not the site's
    (Among(top, kIdentityDirs) ? identity : others).push_back(relative);
  }
  std::sort(identity.begin(), identity.end());
  std::sort(others.begin(), others.end());
  for (const std::string& name : identity) {
    plan.files.emplace_back(name, root + "/" + name);
    plan.bytes += FileSizeOr0(root + "/" + name);
  }
  size_t small_files = 0;
  for (const std::string& name : others) {
    const std::string path = root + "/" + name;
    const uint64_t size = FileSizeOr0(path);
    if (size >= kSmallFileBytes || small_files == kSmallFilesMax) {
      plan.omitted.push_back({.name = name,
                              .size = size,
                              .sha256 = FileSha256(path),
                              .reason = size >= kSmallFileBytes ? "over-200-kb" : "over-50-files",
                              .restore_from = "copy it from the old data dir if it is needed"});
      continue;
    }
    ++small_files;
    plan.files.emplace_back(name, path);
    plan.bytes += size;
  }
}

// The installers' current MSIs go in; archived MSIs and packages are listed as omitted.
void PlanRecordedFiles(const std::string& root, const store::CopyInventory& inventory, Plan& plan) {
  for (const auto& msi : inventory.current_msis) {
    const std::string name = Relative(root, msi.path);
    std::error_code ec;
    if (!UnderRoot(name) || !fs::is_regular_file(msi.path, ec)) {
      plan.omitted.push_back(
          {.name = msi.path,
           .size = 0,
           .sha256 = {},
           .reason = "missing-msi",
           .restore_from = "sluicectl installer extend " + msi.installer_id + " builds a new MSI"});
      continue;
    }
    plan.files.emplace_back(name, msi.path);
    plan.bytes += FileSizeOr0(msi.path);
  }
  for (const auto& msi : inventory.archived_msis) {
    plan.omitted.push_back(
        {.name = UnderRoot(Relative(root, msi.path)) ? Relative(root, msi.path) : msi.path,
         .size = FileSizeOr0(msi.path),
         .sha256 = FileSha256(msi.path),
         .reason = "archived-msi",
         .restore_from = "copy it from the old data dir: only this MSI can uninstall site " +
                         msi.site_version + " installed by installer " + msi.installer_id});
  }
  for (const auto& package : inventory.packages) {
    plan.omitted.push_back(
        {.name =
             UnderRoot(Relative(root, package.path)) ? Relative(root, package.path) : package.path,
         .size = package.size,
         .sha256 = package.sha256,
         .reason = "package",
         .restore_from = "the site update bundle of " + package.kind + " " + package.version +
                         " (sluicectl update install-file), or sluicectl package add " +
                         package.kind + " " + package.platform + " " + package.version});
  }
}

}  // namespace

Result<BackupMade> CreateBackup(store::Store& store, const BackupOptions& options,
                                BackupProgress& progress, const std::atomic<bool>& cancel) {
  const std::string& root = options.data_root;
  if (auto made = EnsureDir(options.out_dir, 0700); !made) return Fail(made.error());
  RemovePartials(options.out_dir);
  const std::string partial =
      options.out_dir + "/" + std::string(kPartialPrefix) + crypto::RandomHex(8);
  const std::string snapshot = partial + ".db";
  struct Cleanup {
    std::string path;
    ~Cleanup() { ::unlink(path.c_str()); }
  } snapshot_cleanup{snapshot};

  // 1. One consistent copy of the database; the server keeps serving meanwhile.
  const uint64_t db_size = FileSizeOr0(root + "/db/sluice.db");
  progress.total = 2 * db_size;
  auto copied = store.BackupTo(snapshot, [&progress, db_size](uint64_t done, uint64_t all) {
    if (all > 0) progress.done = db_size * done / all;
  });
  if (!copied) return Fail(copied.error());
  if (cancel) return Fail(Errc::kClosed, "the backup was cancelled");

  Manifest manifest;
  manifest.created_ms = options.now_ms;
  manifest.source_root = root;
  manifest.history = options.history;
  Plan plan;
  {
    auto db =
        db::Database::Open(snapshot, {.wal = false, .busy_timeout_ms = 5000, .create = false});
    if (!db) return Fail(db.error());
    if (!options.history) {
      if (auto dropped = store::DropHistory(**db); !dropped) return Fail(dropped.error());
      manifest.history_left_out = {"audit"};
    }
    // The versions as of the copy, not as of the request.
    auto stored = store::AllSettings(**db);
    if (!stored) return Fail(stored.error());
    auto site = server::SiteSettings::FromMap(*stored);
    if (!site) return Fail(site.error());
    manifest.site_version = site->site_version;
    manifest.base_version = site->base_version;
    auto inventory = store::ReadInventory(**db);
    if (!inventory) return Fail(inventory.error());
    manifest.schema_version = inventory->schema_version;
    PlanRecordedFiles(root, *inventory, plan);
  }
  PlanIdentityAndSmallFiles(root, plan);
  manifest.omitted = plan.omitted;

  // 2. Stream everything into the file.
  const uint64_t snapshot_size = FileSizeOr0(snapshot);
  const uint64_t base = progress.done = db_size;
  progress.total = base + snapshot_size + plan.bytes;
  const std::string temp = partial + std::string(kBackupSuffix);
  auto writer = BackupWriter::Create(temp, options.password, options.scrypt);
  if (!writer) return Fail(writer.error());
  auto report = [&progress, &writer, base](uint64_t) {
    progress.done = base + writer->archive_bytes();
  };
  if (auto added = writer->AddFile("db/sluice.db", snapshot, report); !added) {
    return Fail(added.error());
  }
  for (const auto& [name, path] : plan.files) {
    if (cancel) return Fail(Errc::kClosed, "the backup was cancelled");
    if (auto added = writer->AddFile(name, path, report); !added) return Fail(added.error());
  }
  auto finished = writer->Finish(std::move(manifest));
  if (!finished) return Fail(finished.error());

  const std::string path = options.out_dir + "/sluice-backup-" + FormatCompactUtc(options.now_ms) +
                           "-site-" + finished->site_version + std::string(kBackupSuffix);
  if (auto published = PublishFile(temp, path); !published) return Fail(published.error());
  progress.done = progress.total.load();
  Log("backup")->info("backup written path={} protected={} history={} entries={} omitted={}", path,
                      finished->is_protected, finished->history, finished->entries.size(),
                      finished->omitted.size());
  return BackupMade{.path = path, .size = FileSizeOr0(path), .manifest = std::move(*finished)};
}

}  // namespace sluice::backup
