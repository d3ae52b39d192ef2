#pragma once
// Site updates on the server (docs/admin.md, "Site updates"): lists what the update source
// offers, installs base and site updates (backup, package import, one committing transaction),
// issues appliance download keys and installs offline update files.
//
// Every method is called on the loop thread and answers through its `done`, also on the loop
// thread, with a typed result (JSON is made only by the admin commands). File work runs on worker
// threads; the database is touched only through the store. One install (or install-file) runs at a
// time.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/db/database.h"
#include "common/update/download_key.h"
#include "common/uv/loop.h"
#include "common/uv/worker_thread.h"
#include "server/site/data_dir.h"
#include "server/site/settings_service.h"
#include "server/site/site_settings.h"
#include "server/store/store.h"
#include "server/update/install_progress.h"
#include "server/update/update_repo.h"
#include "server/update/update_source.h"

namespace sluice::server {

struct FileInstall;  // an install-file in progress (update_manager.cpp)

// Results of the manager's operations; the admin commands turn them into JSON.
template <typename T>
using Done = std::function<void(Result<T>)>;

struct UpdateCheck {
  std::string source;
  std::string base_version;
  std::string site_version;
  std::vector<Candidate> updates;     // installable or waiting for a dependency, by id
  std::vector<std::string> problems;  // files of the source that were skipped, with why
};

struct UpdateInstalled {
  update::BundleHeader header;
  std::string backup;        // the database copy taken before the install
  std::string file;          // the bundle it came from
  std::string base_version;  // the site's versions after the install
  std::string site_version;
};

struct FileInstalled {
  std::string site_id;
  std::vector<UpdateInstalled> installed;
  std::vector<std::string> skipped;  // ids installed before (e.g. before a crash mid-file)
  std::string base_version;
  std::string site_version;
};

struct IssuedDownloadKey {
  std::string key;  // the encoded, signed key
  std::string site_id;
  update::DownloadKey fields;
};

struct SiteUpdateOptions {
  std::string source_dir{};      // --update-source; empty: none configured
  std::string trust_key_path{};  // --update-trust-key; empty: DIR/keys/update-trust.pub if present
  // Test hook (--test-pause-install): an install stops at this stage ("after_backup",
  // "after_import") until cancelled, so a test can kill the server there. Empty in production.
  std::string pause_install_at{};
};

class UpdateManager {
 public:
  struct Host {
    uv::Loop* loop = nullptr;
    store::Store* store = nullptr;
    const DataDir* dir = nullptr;  // its signing_key must be loaded
    Clock* clock = nullptr;
    // The site's settings; an install commits the new version through it, in the same store
    // job as its records, with every connected client told to reconnect.
    SettingsService* settings = nullptr;
  };

  // Loads the trust key (a file holding the base64 of the raw 32-byte Ed25519 public key).
  // Errors: the configured trust key file is missing or malformed (kNotFound, kInvalidArgument).
  [[nodiscard]] static Result<std::unique_ptr<UpdateManager>> Create(Host host,
                                                                     SiteUpdateOptions options);
  ~UpdateManager();

  // What the update source offers this site now, with the dependencies each still lacks.
  void Check(Done<UpdateCheck> done);
  // Installs update `id` from the source.
  void Install(std::string id, Done<UpdateInstalled> done);
  // Installs every update of an offline file not yet installed, in order.
  void InstallFile(std::string path, Done<FileInstalled> done);
  // A signed appliance download key, valid for `valid_for_minutes`.
  void IssueDownloadKey(int64_t valid_for_minutes, Done<IssuedDownloadKey> done);
  // Every installed update, oldest first.
  void Installed(Done<std::vector<InstalledUpdate>> done);
  // What the running install (or the last one) is doing (or did).
  InstallProgressView Progress() const { return progress_->View(); }

  const std::string& site_id() const { return site_id_; }

 private:
  struct Prepared;
  UpdateManager(Host host, SiteUpdateOptions options, Bytes trust_key);
  [[nodiscard]] Status Ready() const;
  // Reads installed ids and the current versions, then calls `next` (loop thread).
  void WithSiteState(std::function<void(Result<SiteState>)> next);
  // Prepares (worker) and commits (store) the bundle at `where`; `done` gets INSTALLED.
  void InstallBundle(update::BundleLocation where, std::string expected_id,
                     Done<UpdateInstalled> done);
  void CommitPrepared(std::shared_ptr<Prepared> prepared, Done<UpdateInstalled> done);
  void InstallFileStep(std::shared_ptr<FileInstall> state);
  // `done`, after the progress board records how the install ended.
  template <typename T>
  Done<T> Ending(Done<T> done);

  Host host_;
  SiteUpdateOptions options_;
  Bytes trust_key_;
  std::string site_id_;
  // Shared with the install worker, which announces its steps.
  std::shared_ptr<InstallProgress> progress_ = std::make_shared<InstallProgress>();
  // Declared last: destroyed (cancelled and joined) first.
  std::unique_ptr<uv::WorkerThread> scan_worker_;
  std::unique_ptr<uv::WorkerThread> install_worker_;
};

}  // namespace sluice::server
