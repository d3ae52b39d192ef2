#pragma once
// The server's data directory: everything sluiced needs on disk, created on first start and
// reused afterwards.
//
//   DIR/            0700
//   DIR/tls/        cert.pem (self-signed ECDSA P-256, or imported with its chain), key.pem
//                   (0600); import-*.pem only while an import switches them
//   DIR/keys/       signing.pem (Ed25519 package-signing key, 0600), enrollment.key (0600),
//                   backup-password (scheduled backups', 0600; never inside a backup),
//                   metrics-token (the Prometheus scrape token, 0600; made on first use)
//   DIR/db/         sluice.db (SQLite, WAL)
//   DIR/run/        0700: lock, endpoint, admin.sock
//   DIR/packages/   content-addressed package store
//   DIR/installers/ each installer's MSIs, current and archived
//   DIR/backups/    pre-update database copies; full/: backup files (scheduled ones kept)
//   DIR/cache/      rebuilt on demand (MSI templates)
//   DIR/pair/       the failover pair: server-id, psk (0600), state.json, a sync's incoming/
//                   and a primary's outgoing/ snapshot (server/pair/pair_state.h)
//   DIR/restore-journal, DIR/.restore-*/  only while a restore switches the data dir over

#include <memory>
#include <optional>
#include <string>

#include "common/base/error.h"
#include "common/crypto/ed25519.h"
#include "common/tls/cert_bundle.h"

namespace sluice::server {

struct DataDir {
  std::string root;
  std::string cert_path;
  std::string key_path;
  std::string signing_key_path;
  std::string enrollment_key_path;
  std::string metrics_token_path;
  std::string db_path;
  std::string run_dir;
  std::string endpoint_path;
  std::string admin_socket_path;
  std::string packages_dir;

  // The site certificate's public-key pin, as clients check it.
  std::string certificate_pin;
  // The site enrollment key clients present on first contact (64 hex chars).
  std::string enrollment_key;
  std::optional<crypto::SigningKey> signing_key;  // set by Prepare()
  // The site's keys were there before this start (not a first start): a missing or empty
  // database then means lost data, not a new site (server.h, ServerOptions::new_database).
  bool existing_site = false;
  // Exclusive lock on DIR/run/lock held for the server's lifetime (-1 when not held).
  std::shared_ptr<int> lock_fd;

  // Creates whatever is missing under `root`, takes the data dir's lock, and loads the rest.
  // Not thread-safe; call before the loop starts. Errors name the file that could not be
  // created or read; kAlreadyExists if another sluiced holds the lock.
  [[nodiscard]] static Result<DataDir> Prepare(const std::string& root);
  // Paths only, without creating or loading anything (for sluicectl).
  static DataDir Layout(const std::string& root);
};

// Takes the data dir's exclusive lock (RUN_DIR/lock, created if missing), held while the
// returned handle lives. Errc::kAlreadyExists "another sluiced is already using this data dir"
// when a server (or a restore) holds it; kIo otherwise.
[[nodiscard]] Result<std::shared_ptr<int>> LockDataDir(const std::string& run_dir);

// Replaces the site's certificate (leaf and chain, DIR/tls/cert.pem) and key (key.pem, 0600)
// so that a crash at any point leaves the old pair or the new one: both are first written as
// tls/import-cert.pem and tls/import-key.pem, then the key and the certificate are renamed into
// place. Prepare() finishes a switch a crash interrupted (key moved, certificate not) and drops
// one that had not begun. Errors: kIo naming the file.
[[nodiscard]] Status InstallCertificateFiles(const DataDir& dir, const tls::CertBundle& bundle);

// The site's own self-signed certificate (CN sluice-site) is renewed with the same key — the pin
// clients check does not change — once at most kRenewCertificateDays of it remain, or when it is
// valid longer than tls::kSelfSignedValidityDays (one from an older release). An imported
// certificate is never touched; it is warned about (an error once expired) from
// kRenewCertificateDays before its end. Returns true when the certificate file was replaced.
// Errors: the certificate cannot be read or renewed (naming the file).
inline constexpr int64_t kRenewCertificateDays = 30;
[[nodiscard]] Result<bool> RenewCertificateIfDue(const DataDir& dir, int64_t now_s);

}  // namespace sluice::server
