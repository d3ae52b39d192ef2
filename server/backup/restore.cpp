#include "server/backup/restore.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "common/base/file_util.h"
#include "common/base/time_format.h"
#include "common/base/version.h"
#include "common/crypto/random.h"
#include "common/db/database.h"
#include "server/backup/backup_archive.h"
#include "server/pair/pair_state.h"
#include "server/site/data_dir.h"
#include "server/site/site_settings.h"
#include "server/store/audit_repo.h"
#include "server/store/backup_repo.h"
#include "server/store/schema.h"
#include "server/store/settings_repo.h"

namespace sluice::backup {
namespace {

namespace fs = std::filesystem;

struct Installed {
  server::SiteSettings site{};
  bool has_database = false;
};

// The versions the data dir has installed now (the defaults when it has no database yet).
Result<Installed> ReadInstalled(const std::string& db_path) {
  Installed installed;
  std::error_code ec;
  if (!fs::exists(db_path, ec)) return installed;
  // Reading only: no journal-mode change, so a refusal leaves the file as it was.
  auto db = db::Database::Open(db_path, {.wal = false, .busy_timeout_ms = 5000, .create = false});
  if (!db) return Fail(db.error());
  auto stored = store::AllSettings(**db);
  if (!stored) return Fail(stored.error());
  auto site = server::SiteSettings::FromMap(*stored);
  if (!site) return Fail(site.error());
  installed.site = std::move(*site);
  installed.has_database = true;
  return installed;
}

// Newer than `installed`? An empty base version is older than any.
Result<bool> Newer(const std::string& backup, const std::string& installed) {
  if (backup.empty()) return false;
  if (installed.empty()) return true;
  auto a = Version::Parse(backup);
  auto b = Version::Parse(installed);
  if (!a || !b)
    return Fail(Errc::kCorrupt, "cannot compare versions '" + backup + "' and '" + installed + "'");
  return *a > *b;
}

// A sync (`sync`) checks only that this software reads the database: the backup's versions are
// the primary's data, replaced with every sync.
Status CheckRunnable(const Manifest& manifest, const Installed& installed, bool sync) {
  const int known = static_cast<int>(store::Migrations().size());
  if (manifest.schema_version > known) {
    return Fail(Errc::kUnsupportedVersion,
                "the backup was made by newer software (database schema v" +
                    std::to_string(manifest.schema_version) + "; this software knows up to v" +
                    std::to_string(known) + "): install that software first");
  }
  if (sync) return {};
  auto base_newer = Newer(manifest.base_version, installed.site.base_version);
  if (!base_newer) return Fail(base_newer.error());
  if (*base_newer) {
    return Fail(Errc::kUnsupportedVersion,
                "the backup's base version " + manifest.base_version +
                    " cannot run here: this server has base " +
                    (installed.site.base_version.empty() ? std::string("none")
                                                         : installed.site.base_version) +
                    "; install base update " + manifest.base_version +
                    " first (sluicectl update install-file), then restore");
  }
  auto site_newer = Newer(manifest.site_version, installed.site.site_version);
  if (!site_newer) return Fail(site_newer.error());
  if (*site_newer) {
    return Fail(Errc::kUnsupportedVersion,
                "the backup's site version " + manifest.site_version +
                    " is newer than this server's " + installed.site.site_version +
                    ": install site update " + manifest.site_version +
                    " first (sluicectl update install-file), then restore");
  }
  return {};
}

// Keeps the data dir's own installer files (archived MSIs above all: only the MSI that
// installed a version can uninstall it) that the backup does not bring, by linking them into
// the staged installers dir.
Status KeepLocalInstallerFiles(const std::string& root, const std::string& staged) {
  const fs::path from = root + "/installers";
  const fs::path to = staged + "/installers";
  std::error_code ec;
  if (!fs::is_directory(from, ec) || !fs::is_directory(to, ec)) return {};
  for (auto it = fs::recursive_directory_iterator(from, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const fs::path target = to / it->path().lexically_relative(from);
    if (fs::exists(target, ec)) continue;
    if (auto made = EnsureDir(target.parent_path().string(), 0700); !made) return made;
    fs::create_hard_link(it->path(), target, ec);
    if (ec) fs::copy_file(it->path(), target, ec);
    if (ec) return Fail(ErrnoError("keeping", it->path().string(), ec.value()));
  }
  return {};
}

// Omitted files the restored site refers to that the data dir does not have.
std::vector<OmittedFile> Missing(const std::string& root, const Manifest& manifest) {
  std::vector<OmittedFile> missing;
  for (const OmittedFile& file : manifest.omitted) {
    const std::string path = fs::path(file.name).is_absolute() ? file.name : root + "/" + file.name;
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec || static_cast<uint64_t>(size) != file.size) missing.push_back(file);
  }
  return missing;
}

// What a backup may bring: nothing the server owns (ServerOwned) and nothing a restore uses
// itself (its journal, staging dirs).
bool Restorable(const std::string& name) {
  const std::string top = name.substr(0, name.find('/'));
  return !ServerOwned(top) && top != kRestoreJournal && !top.starts_with('.');
}

// Adjusts the staged database for this data dir. A restore also makes the leases running when
// the backup was taken due and logs itself (`restored` says from what); a sync (`restored`
// empty) keeps both as the primary had them. Returns the leases made due.
Result<int> AdjustDatabase(const std::string& db_path, const std::string& old_root,
                           const std::string& new_root, const std::string& restored) {
  auto db = db::Database::Open(db_path, {.wal = false, .busy_timeout_ms = 5000, .create = false});
  if (!db) return Fail(db.error());
  if (auto begun = (*db)->Exec("BEGIN IMMEDIATE"); !begun) return Fail(begun.error());
  if (auto moved = store::RebaseDataPaths(**db, old_root, new_root); !moved) {
    return Fail(moved.error());
  }
  int expired = 0;
  if (!restored.empty()) {
    auto made_due = store::ExpireLeasesAtNextStart(**db);
    if (!made_due) return Fail(made_due.error());
    expired = *made_due;
    // The log says where it was restored, so the gap before this row is explained.
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    if (auto logged =
            store::AppendAuditRow(**db, {.wall_ms = now_ms,
                                         .event = store::audit_event::kRestore,
                                         .detail = restored + "; " + std::to_string(expired) +
                                                   " running leases expire at the next start"});
        !logged) {
      return Fail(logged.error());
    }
  }
  if (auto committed = (*db)->Exec("COMMIT"); !committed) return Fail(committed.error());
  return expired;
}

// Links the packages a synced site names into the staged packages dir: from the data dir's own
// store when it has them, else from `fetched_dir`, where the sync put the ones it moved.
Status StagePackages(const std::string& root, const std::string& staged,
                     const std::vector<std::string>& packages, const std::string& fetched_dir) {
  const std::string to = staged + "/packages";
  if (auto made = EnsureDir(to, 0700); !made) return made;
  for (const std::string& sha256 : packages) {
    std::error_code ec;
    const std::string target = to + "/" + sha256;
    for (const std::string& from : {root + "/packages/" + sha256, fetched_dir + "/" + sha256}) {
      ec.clear();
      fs::create_hard_link(from, target, ec);
      if (!ec) break;
    }
    if (ec)
      return Fail(Errc::kNotFound,
                  "package " + sha256 + " is in neither " + root + "/packages nor " + fetched_dir);
  }
  return {};
}

// Stages the backup `options.file` for the data dir `root` into `staged`. `sync`: a failover
// pair's sync rather than a restore (AdjustDatabase).
Result<RestoreReport> Stage(const RestoreOptions& options, const std::string& root,
                            const std::string& staged, bool sync) {
  RestoreReport report;
  report.data_root = root;
  auto installed = ReadInstalled(root + "/db/sluice.db");
  if (!installed) return Context(installed.error(), "reading this data dir's versions");
  report.previous_site_version = installed->site.site_version;

  auto reader = BackupReader::Open(options.file, options.password);
  if (!reader) return Fail(reader.error());
  auto manifest = reader->ReadAll(
      [&staged, &options](const EntryInfo& entry) -> Result<std::string> {
        if (!Restorable(entry.name)) {
          return Fail(Errc::kCorrupt,
                      options.file + " holds " + entry.name + ", which no backup may replace");
        }
        const fs::path path = fs::path(staged) / entry.name;
        if (auto made = EnsureDir(path.parent_path().string(), 0700); !made) {
          return Fail(made.error());
        }
        return path.string();
      },
      options.progress);
  if (!manifest) return Fail(manifest.error());
  std::error_code ec;
  if (!fs::is_regular_file(staged + "/db/sluice.db", ec)) {
    return Fail(Errc::kCorrupt, options.file + " holds no database (db/sluice.db)");
  }
  if (auto runnable = CheckRunnable(*manifest, *installed, sync); !runnable) {
    return Fail(runnable.error());
  }
  const std::string restored = sync ? std::string()
                                    : "restored from " + fs::absolute(options.file, ec).string() +
                                          " (site " + manifest->site_version + ", taken " +
                                          FormatIsoUtc(manifest->created_ms) + ", from " +
                                          manifest->source_root + ")";
  auto expired = AdjustDatabase(staged + "/db/sluice.db", manifest->source_root, root, restored);
  if (!expired) return Context(expired.error(), "adjusting the restored database");
  report.leases_expired = *expired;
  if (auto kept = KeepLocalInstallerFiles(root, staged); !kept) return Fail(kept.error());
  report.manifest = std::move(*manifest);
  return report;
}

// Run as root on a data dir owned by the service user (the .deb's sluice), the staged files
// are given to that user, so the server can read what root restored.
Status GiveToDataDirOwner(const std::string& root, const std::string& staged) {
  struct stat owner {};
  if (::geteuid() != 0 || ::stat(root.c_str(), &owner) != 0 || owner.st_uid == 0) return {};
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(staged, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (::lchown(it->path().c_str(), owner.st_uid, owner.st_gid) != 0) {
      return Fail(ErrnoError("giving to the data dir's owner", it->path().string(), errno));
    }
  }
  if (::lchown(staged.c_str(), owner.st_uid, owner.st_gid) != 0) {
    return Fail(ErrnoError("giving to the data dir's owner", staged, errno));
  }
  return {};
}

}  // namespace

Result<RestoreReport> RestoreBackup(const RestoreOptions& options) {
  std::error_code ec;
  // No trailing '/': the root prefixes the paths a restore writes into the database.
  std::string root = fs::absolute(options.data_root, ec).lexically_normal().string();
  if (ec) return Fail(ErrnoError("resolving", options.data_root, ec.value()));
  if (root.size() > 1 && root.ends_with('/')) root.pop_back();
  const server::DataDir layout = server::DataDir::Layout(root);
  if (auto made = EnsureDir(layout.run_dir, 0700); !made) return Fail(made.error());
  auto lock = server::LockDataDir(layout.run_dir);
  if (!lock) {
    if (lock.error().code() != Errc::kAlreadyExists) return Fail(lock.error());
    return Fail(Errc::kAlreadyExists, "sluiced is running on " + root +
                                          ": stop it first (systemctl stop sluice), then restore");
  }
  auto pending = FinishPendingRestore(root);
  if (!pending) return Fail(pending.error());

  const std::string staging = std::string(kStagingPrefix) + crypto::RandomHex(8);
  const std::string staged = root + "/" + staging;
  if (auto made = EnsureDir(staged, 0700); !made) return Fail(made.error());
  auto report = Stage(options, root, staged, /*sync=*/false);
  if (!report) {
    (void)RemoveAll(staged);
    return Fail(report.error());
  }
  if (auto given = GiveToDataDirOwner(root, staged); !given) {
    (void)RemoveAll(staged);
    return Fail(given.error());
  }
  if (options.hook) options.hook("staged");
  if (auto committed = CommitRestore(root, staging, options.hook); !committed) {
    return Context(committed.error(),
                   "the restore is committed; the next start of sluiced "
                   "completes it");
  }
  report->missing = Missing(root, report->manifest);
  // The restored site stands alone: a failover pair is established again if wanted.
  if (auto forgotten = pair::ForgetRelationship(root); !forgotten) return Fail(forgotten.error());
  return report;
}

Result<std::string> StageSync(const std::string& data_root, const std::string& file,
                              const std::vector<std::string>& packages,
                              const std::string& fetched_dir) {
  if (auto pending = FinishPendingRestore(data_root); !pending) return Fail(pending.error());
  const std::string staging = std::string(kStagingPrefix) + crypto::RandomHex(8);
  const std::string staged = data_root + "/" + staging;
  if (auto made = EnsureDir(staged, 0700); !made) return Fail(made.error());
  auto staged_ok = [&]() -> Status {
    auto report = Stage(RestoreOptions{.data_root = data_root, .file = file}, data_root, staged,
                        /*sync=*/true);
    if (!report) return Fail(report.error());
    return StagePackages(data_root, staged, packages, fetched_dir);
  }();
  if (!staged_ok) {
    (void)RemoveAll(staged);
    return Fail(staged_ok.error());
  }
  return staging;
}

}  // namespace sluice::backup
