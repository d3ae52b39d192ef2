#pragma once
// The site's installers (docs/admin.md, "Installers"): creates them (an MSI built off the loop
// thread, recorded in SQLite), extends, deletes and lists them, rebuilds every live one when the
// site version changes, and decides whether an installer key may enroll a client.
//
// Threads: every method is called on the loop thread and calls back there. Builds run one at a
// time on the service's worker thread; records go through the store thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/crypto/ed25519.h"
#include "common/proto/messages.h"
#include "common/uv/lifetime.h"
#include "common/uv/loop.h"
#include "common/uv/worker_thread.h"
#include "msi/installer_signer.h"
#include "server/installer/installer_build.h"
#include "server/installer/installer_params.h"
#include "server/installer/installer_repo.h"
#include "server/store/store.h"

namespace sluice::server {

struct InstallerServiceOptions {
  uv::Loop* loop = nullptr;
  store::Store* store = nullptr;
  Clock* clock = nullptr;
  const crypto::SigningKey* signing_key = nullptr;   // the site's; outlives the service
  std::string installers_dir{};                      // DATA_DIR/installers
  std::string templates_dir{};                       // cache of built templates
  std::string endpoint{};                            // HOST:PORT written into keys
  std::string certificate_pin{};                     // "sha256/..." of the site certificate
  std::function<std::string()> site_version{};       // the site's current version
  std::optional<msi::SigningConfig> code_signing{};  // Authenticode-sign MSIs when set
  int64_t min_validity_ms = kMinInstallerValidityMs;
};

// The outcome of checking an `enroll` that carries an installer key.
struct EnrollDecision {
  std::optional<proto::ErrorCode> refusal{};  // set: refuse with this code and `message`
  std::string message{};
  std::string installer_id{};
  std::string jump_group{};  // what the client gets (the installer's, or an allowed override)
  std::string tag{};
};

class InstallerService {
 public:
  using RecordDone = std::function<void(Result<InstallerRecord>)>;

  explicit InstallerService(InstallerServiceOptions options);
  ~InstallerService();

  // Validates, builds and records a new installer. It carries the kind's windows-x86_64 package
  // at its site version. Errors: kInvalidArgument (params; a --site-version older than the
  // site's), kNotFound (no such package; the message names the command that adds one), the
  // build's errors, kDatabase.
  void Create(InstallerParams params, RecordDone done);
  // Sets the installer's expiry to now + valid_for_ms and rebuilds its MSI with a key that says
  // so (the previous MSI is archived, reason "extended"). kNotFound for an unknown id.
  void Extend(const std::string& id, int64_t valid_for_ms, RecordDone done);
  // Marks the installer deleted (its keys are refused as installer_revoked from now on) and
  // removes its MSIs. Clients already enrolled with it are not affected.
  void Delete(const std::string& id, RecordDone done);
  // Live installers and every archived MSI.
  void List(std::function<
            void(Result<std::pair<std::vector<InstallerRecord>, std::vector<ArchivedInstaller>>>)>
                done);
  // Every live installer made for a version older than `version` (the site's) is rebuilt for
  // it (same UpgradeCode, new ProductCode, higher ProductVersion, new key, the new version's
  // client); the old MSI is archived. Called when the site version changes, at start (to finish
  // an interrupted regeneration) and when a windows-x86_64 package for `version` is added.
  // Failures (e.g. no package for `version` yet) are logged; the installer keeps its old MSI,
  // whose key the site refuses as installer_outdated.
  void RegenerateOutdated(const std::string& version);
  // The site certificate's new pin, for installers built from now on (a certificate import
  // with a new key).
  void SetCertificatePin(std::string pin) { options_.certificate_pin = std::move(pin); }
  // Checks an `enroll` carrying an installer key against the key's signature, its allowed
  // overrides and the installer's record (deleted, expired, site version).
  void AuthorizeEnroll(const proto::Enroll& enroll, std::function<void(EnrollDecision)> done);

  // Regenerations queued or running, for tests and status.
  int pending_rebuilds() const { return pending_rebuilds_; }

 private:
  void Rebuild(InstallerRecord record, std::string site_version, int64_t expires_ms,
               std::string reason, RecordDone done);
  // Finds the kind's client package for the request's site version, then builds on the worker.
  void Build(BuildRequest request, std::function<void(Result<BuildOutcome>)> done);

  InstallerServiceOptions options_;
  std::unique_ptr<uv::WorkerThread> worker_;
  int pending_rebuilds_ = 0;
  uv::Lifetime lifetime_;  // guards completions that outlive this object
};

}  // namespace sluice::server
