#include "server/update/update_manager.h"

#include <filesystem>
#include <set>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/base/time_format.h"
#include "common/crypto/encoding.h"
#include "common/update/download_key.h"
#include "common/update/offline_file.h"
#include "server/pkg/package_repo.h"
#include "server/update/install_steps.h"
#include "server/update/update_repo.h"

namespace sluice::server {

struct UpdateManager::Prepared {
  update::BundleHeader header;
  std::string header_sha256;
  std::string backup;
  std::vector<PackageRecord> packages;
  std::string file;
};

struct FileInstall {
  update::OfflineFile file;
  size_t next = 0;
  FileInstalled result;
  Done<FileInstalled> done;
};

namespace {

Result<Bytes> LoadTrustKey(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return Context(text.error(), "update trust key");
  std::string trimmed = *text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
    trimmed.pop_back();
  }
  auto key = crypto::Base64Decode(trimmed);
  if (!key || key->size() != crypto::kEd25519PublicKeySize) {
    return Fail(Errc::kInvalidArgument,
                "update trust key " + path +
                    " must hold the base64 of a raw 32-byte Ed25519 public key (the .pub file "
                    "`sluicectl update keygen` writes)");
  }
  return *key;
}

// Checks that `header` may be installed on `site` now. Errors name the missing dependency.
Status CheckInstallable(const update::BundleHeader& header, const SiteState& site) {
  if (site.installed.contains(header.id)) {
    return Fail(Errc::kAlreadyExists, "update " + header.id + " is already installed");
  }
  for (const auto& dependency : header.depends_on) {
    if (!site.installed.contains(dependency)) {
      return Fail(Errc::kInvalidArgument, "update " + header.id + " depends on " + dependency +
                                              ", which is not installed: install " + dependency +
                                              " first");
    }
  }
  if (!IsNewFor(header, site)) {
    return Fail(Errc::kInvalidArgument,
                "update " + header.id + " is not newer than the installed " + header.kind +
                    " version " + (header.kind == "base" ? site.base_version : site.site_version));
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<UpdateManager>> UpdateManager::Create(Host host, SiteUpdateOptions options) {
  Bytes trust_key;
  std::string path = options.trust_key_path;
  if (path.empty()) {
    const std::string fallback = host.dir->root + "/keys/update-trust.pub";
    if (std::filesystem::exists(fallback)) path = fallback;
  }
  if (!path.empty()) {
    auto key = LoadTrustKey(path);
    if (!key) return Fail(key.error());
    trust_key = std::move(*key);
  }
  return std::unique_ptr<UpdateManager>(
      new UpdateManager(std::move(host), std::move(options), std::move(trust_key)));
}

UpdateManager::UpdateManager(Host host, SiteUpdateOptions options, Bytes trust_key)
    : host_(std::move(host)),
      options_(std::move(options)),
      trust_key_(std::move(trust_key)),
      site_id_(host_.dir->signing_key ? update::SiteIdFor(host_.dir->signing_key->PublicKey())
                                      : std::string()),
      scan_worker_(std::make_unique<uv::WorkerThread>(*host_.loop)),
      install_worker_(std::make_unique<uv::WorkerThread>(*host_.loop)) {}

UpdateManager::~UpdateManager() = default;

template <typename T>
Done<T> UpdateManager::Ending(Done<T> done) {
  return [progress = progress_, clock = host_.clock, done = std::move(done)](Result<T> outcome) {
    progress->End(outcome ? Status{} : Status(Fail(outcome.error())), clock->WallMs());
    done(std::move(outcome));
  };
}

Status UpdateManager::Ready() const {
  if (trust_key_.empty()) {
    return Fail(Errc::kInvalidArgument,
                "no update trust key: start sluiced with --update-trust-key FILE, or put the "
                "vendor's public key at " +
                    host_.dir->root + "/keys/update-trust.pub");
  }
  if (!host_.dir->signing_key) return Fail(Errc::kInternal, "the site signing key is not loaded");
  return {};
}

void UpdateManager::WithSiteState(std::function<void(Result<SiteState>)> next) {
  host_.store->Submit<std::vector<InstalledUpdate>>(
      [](db::Database& db) { return ListInstalledUpdates(db); },
      [this, next = std::move(next)](Result<std::vector<InstalledUpdate>> rows) {
        if (!rows) {
          next(Fail(rows.error()));
          return;
        }
        SiteState site{.installed = {},
                       .base_version = host_.settings->settings().base_version,
                       .site_version = host_.settings->settings().site_version};
        for (const auto& row : *rows) site.installed.insert(row.id);
        next(std::move(site));
      });
}

void UpdateManager::Check(Done<UpdateCheck> done) {
  if (auto ready = Ready(); !ready) return done(Fail(ready.error()));
  if (options_.source_dir.empty()) {
    return done(Fail(Errc::kNotFound,
                     "no update source is configured: start sluiced with --update-source DIR"));
  }
  WithSiteState([this, done = std::move(done)](Result<SiteState> site) {
    if (!site) return done(Fail(site.error()));
    scan_worker_->Run<SourceScan>(
        [dir = options_.source_dir, key = trust_key_] { return ScanSource(dir, key); },
        [this, site = *site, done](Result<SourceScan> scan) {
          if (!scan) return done(Fail(scan.error()));
          done(UpdateCheck{.source = options_.source_dir,
                           .base_version = site.base_version,
                           .site_version = site.site_version,
                           .updates = AvailableUpdates(scan->entries, site),
                           .problems = std::move(scan->problems)});
        });
  });
}

void UpdateManager::Install(std::string id, Done<UpdateInstalled> done) {
  if (auto ready = Ready(); !ready) return done(Fail(ready.error()));
  if (options_.source_dir.empty()) {
    return done(Fail(Errc::kNotFound,
                     "no update source is configured: start sluiced with --update-source DIR"));
  }
  if (!progress_->Begin(id, host_.clock->WallMs())) {
    return done(Fail(Errc::kInvalidArgument, "another update is being installed"));
  }
  done = Ending(std::move(done));
  scan_worker_->Run<update::BundleLocation>(
      [dir = options_.source_dir, key = trust_key_, id]() -> Result<update::BundleLocation> {
        auto scan = ScanSource(dir, key);
        if (!scan) return Fail(scan.error());
        for (const auto& entry : scan->entries) {
          if (entry.header.id == id) return entry.where;
        }
        return Fail(Errc::kNotFound, "no update '" + id + "' in the update source " + dir +
                                         " (`sluicectl update check` lists them)");
      },
      [this, id, done = std::move(done)](Result<update::BundleLocation> where) {
        if (!where) return done(Fail(where.error()));
        progress_->BeginUpdate(id, 1, 1);
        InstallBundle(*where, id, done);
      });
}

void UpdateManager::InstallBundle(update::BundleLocation where, std::string expected_id,
                                  Done<UpdateInstalled> done) {
  WithSiteState([this, where = std::move(where), expected_id = std::move(expected_id),
                 done = std::move(done)](Result<SiteState> site) {
    if (!site) return done(Fail(site.error()));
    const DataDir& dir = *host_.dir;
    install_worker_->Run<std::shared_ptr<Prepared>>(
        [where, expected_id, site = *site, key = trust_key_, store = host_.store,
         keep_backups = host_.settings->settings().update_backups_kept,
         backups = dir.root + "/backups", packages = dir.packages_dir, &signing = *dir.signing_key,
         now = host_.clock->WallMs(), pause_at = options_.pause_install_at,
         &cancel = install_worker_->cancelled(),
         progress = progress_]() -> Result<std::shared_ptr<Prepared>> {
          auto bundle = update::ReadBundle(where, key, /*check_payloads=*/true);
          if (!bundle) return Fail(bundle.error());
          if (!expected_id.empty() && bundle->header.id != expected_id) {
            return Fail(Errc::kCorrupt,
                        where.path + " holds update " + bundle->header.id + ", not " + expected_id);
          }
          if (auto ok = CheckInstallable(bundle->header, site); !ok) return Fail(ok.error());
          progress->Step(InstallStep::kBackup);
          auto backup = BackupDatabase(*store, backups, now, site.site_version, site.base_version,
                                       bundle->header.id, keep_backups);
          if (!backup) return Fail(backup.error());
          MaybePauseForTest("after_backup", pause_at, cancel);
          progress->Step(InstallStep::kImport);
          auto records = ImportBundlePackages(*bundle, packages, signing, now, cancel);
          if (!records) return Fail(records.error());
          MaybePauseForTest("after_import", pause_at, cancel);
          return std::make_shared<Prepared>(Prepared{.header = std::move(bundle->header),
                                                     .header_sha256 = bundle->header_sha256,
                                                     .backup = std::move(*backup),
                                                     .packages = std::move(*records),
                                                     .file = where.path});
        },
        [this, done](Result<std::shared_ptr<Prepared>> prepared) {
          if (!prepared) return done(Fail(prepared.error()));
          CommitPrepared(std::move(*prepared), done);
        });
  });
}

void UpdateManager::CommitPrepared(std::shared_ptr<Prepared> prepared, Done<UpdateInstalled> done) {
  progress_->Step(InstallStep::kCommit);
  const update::BundleHeader& header = prepared->header;
  const std::string key = header.kind == "site" ? "site_version" : "base_version";
  auto record = [prepared, now = host_.clock->WallMs()](db::Database& db) -> Status {
    // Checked again inside the transaction: the state may have moved since the worker looked.
    auto rows = ListInstalledUpdates(db);
    if (!rows) return Fail(rows.error());
    std::set<std::string> installed;
    for (const auto& row : *rows) installed.insert(row.id);
    for (const auto& dependency : prepared->header.depends_on) {
      if (!installed.contains(dependency)) {
        return Fail(Errc::kInvalidArgument, "update " + prepared->header.id + " depends on " +
                                                dependency + ", which is not installed");
      }
    }
    for (const auto& package : prepared->packages) {
      if (auto inserted = InsertPackage(db, package); !inserted) return inserted;
    }
    return InsertInstalledUpdate(db, {.id = prepared->header.id,
                                      .kind = prepared->header.kind,
                                      .version = prepared->header.version,
                                      .depends_on = prepared->header.depends_on,
                                      .installed_ms = now,
                                      .bundle_sha256 = prepared->header_sha256,
                                      .backup = prepared->backup});
  };
  host_.settings->Update(
      {.key = key, .value = header.version, .reconnect_clients = true},
      [this, prepared, done = std::move(done)](Status committed) {
        if (!committed) return done(Fail(committed.error()));
        const auto& h = prepared->header;
        Log("update")->info(
            "update installed id={} kind={} version={} packages={} "
            "backup={}",
            h.id, h.kind, h.version, prepared->packages.size(), prepared->backup);
        done(UpdateInstalled{.header = h,
                             .backup = prepared->backup,
                             .file = prepared->file,
                             .base_version = host_.settings->settings().base_version,
                             .site_version = host_.settings->settings().site_version});
      },
      std::move(record));
}

void UpdateManager::InstallFile(std::string path, Done<FileInstalled> done) {
  if (auto ready = Ready(); !ready) return done(Fail(ready.error()));
  if (!progress_->Begin(path, host_.clock->WallMs())) {
    return done(Fail(Errc::kInvalidArgument, "another update is being installed"));
  }
  done = Ending(std::move(done));
  scan_worker_->Run<update::OfflineFile>(
      [path] { return update::ReadOfflineFile(path); },
      [this, done = std::move(done)](Result<update::OfflineFile> file) {
        if (!file) return done(Fail(file.error()));
        if (file->site_id != site_id_) {
          return done(
              Fail(Errc::kInvalidArgument, "this offline update file was made for site " +
                                               file->site_id + ", not for this site (" + site_id_ +
                                               "): fetch one with this site's download key"));
        }
        auto state = std::make_shared<FileInstall>();
        state->file = std::move(*file);
        state->result.site_id = site_id_;
        state->done = done;
        InstallFileStep(std::move(state));
      });
}

void UpdateManager::InstallFileStep(std::shared_ptr<FileInstall> state) {
  if (state->next == state->file.bundles.size()) {
    state->result.base_version = host_.settings->settings().base_version;
    state->result.site_version = host_.settings->settings().site_version;
    state->done(std::move(state->result));
    return;
  }
  const size_t index = state->next++;
  progress_->BeginUpdate(state->file.ids[index], static_cast<int>(index) + 1,
                         static_cast<int>(state->file.bundles.size()));
  InstallBundle(
      state->file.bundles[index], state->file.ids[index],
      [this, state, index](Result<UpdateInstalled> installed) {
        if (installed) {
          state->result.installed.push_back(std::move(*installed));
        } else if (installed.error().code() == Errc::kAlreadyExists) {
          // Installed earlier (e.g. before a crash in the middle of this file).
          state->result.skipped.push_back(state->file.ids[index]);
        } else {
          return state->done(Context(
              installed.error(),
              "installing " + state->file.ids[index] + " from the offline file (" +
                  std::to_string(state->result.installed.size()) + " installed before it)"));
        }
        InstallFileStep(state);
      });
}

void UpdateManager::IssueDownloadKey(int64_t valid_for_minutes, Done<IssuedDownloadKey> done) {
  if (!host_.dir->signing_key) return done(Fail(Errc::kInternal, "site signing key not loaded"));
  WithSiteState([this, valid_for_minutes, done = std::move(done)](Result<SiteState> site) {
    if (!site) return done(Fail(site.error()));
    const int64_t now = host_.clock->WallMs();
    update::DownloadKey key{.site_id = {},
                            .public_key = {},
                            .base_version = site->base_version,
                            .site_version = site->site_version,
                            .installed = {site->installed.begin(), site->installed.end()},
                            .issued_ms = now,
                            .expires_ms = now + valid_for_minutes * 60'000};
    std::string encoded = update::EncodeDownloadKey(key, *host_.dir->signing_key);
    done(IssuedDownloadKey{
        .key = std::move(encoded), .site_id = site_id_, .fields = std::move(key)});
  });
}

void UpdateManager::Installed(Done<std::vector<InstalledUpdate>> done) {
  host_.store->Submit<std::vector<InstalledUpdate>>(
      [](db::Database& db) { return ListInstalledUpdates(db); }, std::move(done));
}

}  // namespace sluice::server
