#pragma once
// Site updates on the server (docs/admin.md, "Site updates"): lists what the update source
// offers, installs base and site updates (backup, package import, one committing transaction),
// issues appliance download keys and installs offline update files.
//
// Every method is called on the loop thread and answers through its Reply, also on the loop
// thread. File work runs on worker threads; the database is touched only through the store.
// One install (or install-file) runs at a time.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/db/database.h"
#include "common/uv/loop.h"
#include "common/uv/worker_thread.h"
#include "server/admin/admin_server.h"
#include "server/site/data_dir.h"
#include "server/site/settings_service.h"
#include "server/site/site_settings.h"
#include "server/store/store.h"
#include "server/update/update_source.h"

namespace sluice::server {

struct FileInstall;  // an install-file in progress (update_manager.cpp)

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

  // {"source", "base_version", "site_version", "updates": [UPDATE + "missing"], "problems"}.
  void Check(admin::Reply reply);
  // Installs update `id` from the source. Result: INSTALLED (see docs).
  void Install(std::string id, admin::Reply reply);
  // Installs every update of an offline file not yet installed, in order.
  // Result: {"site_id", "installed": [INSTALLED...], "skipped": [id...]}.
  void InstallFile(std::string path, admin::Reply reply);
  // {"key", "site_id", "expires", "base_version", "site_version", "installed"}.
  void DownloadKey(int64_t valid_for_minutes, admin::Reply reply);
  // {"updates": [{"id", "kind", "version", "depends_on", "installed", "backup"}]}.
  void Installed(admin::Reply reply);

  const std::string& site_id() const { return site_id_; }

 private:
  struct Prepared;
  UpdateManager(Host host, SiteUpdateOptions options, Bytes trust_key);
  [[nodiscard]] Status Ready() const;
  // Reads installed ids and the current versions, then calls `next` (loop thread).
  void WithSiteState(std::function<void(Result<SiteState>)> next);
  // Prepares (worker) and commits (store) the bundle at `where`; `done` gets INSTALLED.
  void InstallBundle(update::BundleLocation where, std::string expected_id,
                     std::function<void(Result<nlohmann::json>)> done);
  void CommitPrepared(std::shared_ptr<Prepared> prepared,
                      std::function<void(Result<nlohmann::json>)> done);
  void InstallFileStep(std::shared_ptr<FileInstall> state);

  Host host_;
  SiteUpdateOptions options_;
  Bytes trust_key_;
  std::string site_id_;
  bool installing_ = false;
  // Declared last: destroyed (cancelled and joined) first.
  std::unique_ptr<uv::WorkerThread> scan_worker_;
  std::unique_ptr<uv::WorkerThread> install_worker_;
};

}  // namespace sluice::server
