#pragma once
// sluiced: the site server. Owns the listener, the client sessions, the store thread and the
// admin socket; everything but the store runs on one libuv loop thread.

#include <memory>
#include <string>
#include <unordered_map>

#include "common/base/clock.h"
#include "common/base/token_bucket.h"
#include "common/proto/frame_codec.h"
#include "common/tls/tls_context.h"
#include "common/uv/lifetime.h"
#include "common/uv/listener.h"
#include "common/uv/timer.h"
#include "server/admin/admin_server.h"
#include "server/backup/backup_service.h"
#include "server/checkin/checkin_service.h"
#include "server/installer/installer_service.h"
#include "server/metrics/metrics_service.h"
#include "server/net/client_session.h"
#include "server/net/session_registry.h"
#include "server/pair/pair_service.h"
#include "server/pair/pair_upgrade.h"
#include "server/site/data_dir.h"
#include "server/site/settings_service.h"
#include "server/site/site_certificate.h"
#include "server/update/update_manager.h"
#include "server/upgrade/upgrade_coordinator.h"
#include "server/web/web_app.h"

namespace sluice::server {

struct ServerOptions {
  std::string data_dir = "sluice-data";
  std::string listen = "0.0.0.0:443";
  // HOST:PORT written into client configurations; empty: the listen address with its real
  // port, a wildcard host replaced by loopback.
  std::string advertise;
  size_t max_frame_bytes = proto::kDefaultMaxFrameBytes;
  uint64_t handshake_timeout_ms = 10'000;
  UpgradeOptions upgrade;
  Clock* clock = &SystemClock::Instance();
  // Site updates (docs/admin.md, "Site updates"): the update source and the trust key.
  SiteUpdateOptions updates;
  // Installers (docs/admin.md, "Installers"): the optional Authenticode certificate and key
  // (PEM; or a PKCS#12 file as cert with no key), and the shortest validity accepted (a test
  // hook: 600 s in production).
  std::string code_signing_cert;
  std::string code_signing_key;
  int64_t min_installer_validity_s = 600;
  // A data dir with keys but a missing or empty database is refused (its clients, leases and
  // settings would silently be lost) unless this is set: then a new, empty database is created
  // for the same keys.
  bool new_database = false;
  // The failover pair (docs/admin.md, "Failover pair"); lease_ttl_ms is taken from `upgrade`.
  pair::PairOptions pair;
  // How often the metrics count the clients by kind, version and state (a test hook).
  uint64_t metrics_census_ms = 15'000;
  // The dashboard's HTTP limits and deadlines (docs/admin.md, "Dashboard").
  web::HttpSessionOptions http;
};

class Server final {
 public:
  // Prepares the data dir (first start creates certificate, keys and database), binds the
  // listener and the admin socket, writes DIR/run/endpoint. Call on the loop thread before
  // Loop::Run. Errors name what failed (a port that cannot be bound names the address).
  [[nodiscard]] static Result<std::unique_ptr<Server>> Start(uv::Loop& loop, ServerOptions options);
  ~Server();

  // Stops accepting, closes every connection, commits outstanding writes and stops the loop.
  // Idempotent. Loop thread.
  void Shutdown();
  // True once the server asked to be started again (a failover pair's role change or applied
  // sync): sluiced then starts a new Server on the same loop.
  bool restart_requested() const { return restart_requested_; }
  // Why the work between the two servers of a restart failed (sluiced then exits), if it did.
  const std::optional<Error>& restart_error() const { return restart_error_; }

  // "HOST:PORT" actually bound.
  const std::string& endpoint() const { return endpoint_; }
  const std::string& advertised_endpoint() const { return advertise_; }
  const DataDir& data_dir() const { return dir_; }
  size_t connection_count() const { return sessions_.size(); }
  int64_t started_ms() const { return started_ms_; }

  store::Store& store() { return *store_; }
  const std::string& enrollment_key() const { return dir_.enrollment_key; }
  InstallerService& installers() { return *installers_; }

  const SiteSettings& settings() const { return settings_->settings(); }
  SettingsService& settings_service() { return *settings_; }
  UpgradeCoordinator& upgrades() { return *upgrades_; }

  // --- Metrics (docs/admin.md, "Metrics"): what `GET /metrics` serves. Loop thread. ---
  // The scrape token a request's `Authorization: Bearer TOKEN` must match (Matches() compares in
  // constant time, is false while no token exists, and sees a rotation at once).
  const metrics::ScrapeToken& scrape_token() const { return metrics_->scrape_token(); }
  // Every metric in the Prometheus text format 0.0.4; serve it as
  // "text/plain; version=0.0.4; charset=utf-8". Reads only memory (no database query).
  std::string RenderMetrics() const { return metrics_->Render(); }
  metrics::MetricsService& metrics() { return *metrics_; }

 private:
  Server(uv::Loop& loop, ServerOptions options, DataDir dir);
  // Builds the services in dependency order; each step below builds one and says what it
  // needs. Startup reads and writes are synchronous: nothing is being served yet.
  [[nodiscard]] Status Open();
  [[nodiscard]] Status OpenStore();     // the database and the site settings
  [[nodiscard]] Status OpenMetrics();   // the instruments and the scrape token
  [[nodiscard]] Status OpenPair();      // the failover pair: this server's role
  [[nodiscard]] Status OpenUpgrades();  // the throttle, restored; the connection rate
  [[nodiscard]] Status Listen();        // the TLS context and the client port
  void OpenCheckin();                   // installers, then enrollment and check-in
  [[nodiscard]] Status OpenUpdates();
  [[nodiscard]] Status OpenAdmin();  // the admin socket and every admin command
  void OpenDashboard();              // the web dashboard, which runs the admin commands
  void StartTimers();
  // What a site or settings change sets off across services.
  void OnSettingChanged(const SettingChange& change);
  // Refuses an existing site whose database is missing or empty (ServerOptions::new_database).
  [[nodiscard]] Status CheckDatabasePresent() const;
  // A crash mid-import or a refused re-add leaves files in packages/ that no package names:
  // removed at start (each logged).
  [[nodiscard]] Status SweepOrphanedPackages();
  void OnAccept(uv::HandlePtr<uv::Stream> stream);
  // Reconnect storms: admits at most connection_rate connections per second (token bucket) and
  // closes the rest at once, before any TLS work; the clients back off with jitter and retry.
  // Leaving them in the kernel backlog instead was measured to be worse (docs/benchmarks.md):
  // a storm outgrows the backlog's drain time, clients time out and retry, and the server then
  // spends its tokens and handshakes on connections their clients had already abandoned.
  bool AdmitConnection();
  void ReportShedConnections();  // logs how many were closed since the last report
  void SweepStaleClients();
  // Renews the site's self-signed certificate when due (site/data_dir.h); new connections then
  // use it. Twice a day.
  void RenewCertificate();
  // After a burst of connections (an enrollment wave, a reconnect storm) glibc keeps the freed
  // handshake buffers: measured with sluice-load, 2000 closed connections left ~70 MB resident
  // that malloc_trim gives back. Trims when enough connections opened or closed since the last
  // trim.
  void TrimMemory();
  // Sends `reconnect` to every authenticated client and closes its connection.
  void ReconnectAllClients();
  // The pair's restart: Shutdown, then `after_close` once the database is closed.
  void Restart(std::function<Status()> after_close);
  // A primary handing over to its backup: no grants, clients sent away (not_primary).
  void StopClientWork();
  bool serves_clients() const { return pair_ == nullptr || pair_->serves_clients(); }
  // Runs `task` on a later loop iteration unless the server is gone by then: store
  // completions and deferred cleanups may outlive the server in the loop's final drain.
  void PostGuarded(std::function<void()> task);

  uv::Loop& loop_;
  ServerOptions options_;
  DataDir dir_;
  std::unique_ptr<SettingsService> settings_;
  std::unique_ptr<store::Store> store_;
  // A read-only connection for what the dashboard reads (counts, pages, searches, the audit
  // log): it reads beside store_ in WAL mode, so admins' queries never queue ahead of check-ins.
  std::unique_ptr<store::Store> reader_;
  // Before every part that counts into it (destroyed after them).
  std::unique_ptr<metrics::MetricsService> metrics_;
  std::unique_ptr<SiteCertificate> certificate_;
  uv::HandlePtr<uv::Listener> listener_;
  std::unique_ptr<admin::AdminServer> admin_;
  uv::HandlePtr<uv::Timer> sweep_timer_;
  uv::HandlePtr<uv::Timer> trim_timer_;
  uv::HandlePtr<uv::Timer> certificate_timer_;
  static constexpr uint64_t kCertificateCheckMs = 12ULL * 3600 * 1000;
  uv::HandlePtr<uv::Timer> backup_timer_;  // scheduled backups
  static constexpr uint64_t kBackupCheckMs = 60'000;
  uint64_t churn_since_trim_ = 0;
  static constexpr uint64_t kTrimIntervalMs = 5'000;
  static constexpr uint64_t kTrimAfterConnectionChurn = 1'000;
  std::unique_ptr<UpgradeCoordinator> upgrades_;
  std::unique_ptr<UpdateManager> updates_;
  std::unique_ptr<backup::BackupService> backups_;
  std::unique_ptr<pair::PairService> pair_;
  std::unique_ptr<pair::PairUpgrade> pair_upgrade_;
  std::function<Status()> after_close_;
  bool restart_requested_ = false;
  std::optional<Error> restart_error_;
  std::unique_ptr<InstallerService> installers_;
  std::unique_ptr<CheckinService> checkin_;
  std::unique_ptr<web::WebApp> web_;  // the dashboard on the client port (ALPN http/1.1)
  SessionServices session_services_;
  // Declared after the services its sessions use: destroyed (with its sessions) before them.
  SessionRegistry sessions_;
  std::unique_ptr<TokenBucket> accept_bucket_;
  uint64_t shed_since_report_ = 0;
  std::string endpoint_;
  std::string advertise_;
  int64_t started_ms_ = 0;
  bool shut_down_ = false;
  uv::Lifetime lifetime_;  // guards completions that outlive this object
};

}  // namespace sluice::server
