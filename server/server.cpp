#include "server/server.h"

#include <malloc.h>

#include <filesystem>
#include <set>

#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/crypto/encoding.h"
#include "server/pkg/package_repo.h"
#include "server/store/client_repo.h"
#include "server/store/settings_repo.h"

namespace sluice::server {
namespace {

constexpr int kListenBacklog = 4096;
constexpr uint64_t kSweepIntervalMs = 3600 * 1000;

std::string AdvertisedEndpoint(const std::string& configured, const std::string& host, int port) {
  if (!configured.empty()) return configured;
  std::string advertised_host = host;
  if (host == "0.0.0.0") advertised_host = "127.0.0.1";
  if (host == "::") advertised_host = "::1";
  if (advertised_host.find(':') != std::string::npos) advertised_host = "[" + advertised_host + "]";
  return advertised_host + ":" + std::to_string(port);
}

}  // namespace

Server::Server(uv::Loop& loop, ServerOptions options, DataDir dir)
    : loop_(loop), options_(std::move(options)), dir_(std::move(dir)), sessions_(loop) {}

Server::~Server() { Shutdown(); }

Result<std::unique_ptr<Server>> Server::Start(uv::Loop& loop, ServerOptions options) {
  auto listen = uv::SplitHostPort(options.listen);
  if (!listen) return Context(listen.error(), "--listen");
  auto dir = DataDir::Prepare(options.data_dir);
  if (!dir) return Context(dir.error(), "--data-dir " + options.data_dir);
  std::unique_ptr<Server> server(new Server(loop, std::move(options), std::move(*dir)));
  if (auto opened = server->Open(); !opened) return Fail(opened.error());
  return server;
}

Status Server::CheckDatabasePresent() const {
  if (!dir_.existing_site || options_.new_database) return {};
  std::error_code error;
  const auto size = std::filesystem::file_size(dir_.db_path, error);
  if (!error && size > 0) return {};
  return Fail(Errc::kNotFound,
              "the database " + dir_.db_path + " is " + (error ? "missing" : "empty") +
                  ", but this data dir already holds a site's keys: starting would begin a new, "
                  "empty site and every client would have to enroll again. Restore the database "
                  "from a backup, or start sluiced with --new-database to begin again with the "
                  "same keys (docs/admin.md, \"Running sluiced\")");
}

Status Server::SweepOrphanedPackages() {
  auto packages = store_->Call<std::vector<PackageRecord>>(
      [](db::Database& db) { return ListPackages(db); });
  if (!packages) return Context(packages.error(), "listing packages");
  std::set<std::string> known;
  for (const PackageRecord& package : *packages) known.insert(package.sha256);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.packages_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file(ec) || known.contains(name)) continue;
    if (std::filesystem::remove(entry.path(), ec)) {
      Log("server")->info("removed an orphaned package file path={}", entry.path().string());
    }
  }
  return {};
}

Status Server::Open() {
  started_ms_ = options_.clock->WallMs();
  if (auto present = CheckDatabasePresent(); !present) return present;
  if (auto opened = OpenStore(); !opened) return opened;
  if (auto opened = OpenMetrics(); !opened) return opened;
  if (auto opened = OpenPair(); !opened) return opened;
  if (auto opened = OpenUpgrades(); !opened) return opened;
  if (auto listening = Listen(); !listening) return listening;
  OpenCheckin();
  if (auto opened = OpenUpdates(); !opened) return opened;
  if (auto opened = OpenAdmin(); !opened) return opened;
  OpenDashboard();
  settings_->OnChanged([this](const SettingChange& change) { OnSettingChanged(change); });
  // Finishes a regeneration that a crash interrupted: installers older than the site catch up.
  // (Not on a backup: its installers are the primary's, synced.)
  if (pair_->role() != pair::Role::kBackup) {
    installers_->RegenerateOutdated(settings().site_version);
  }
  if (auto written = WriteFileAtomic(dir_.endpoint_path, endpoint_ + "\n", 0644); !written) {
    return Fail(written.error());
  }
  metrics_->Watch({.scheduler = &upgrades_->scheduler(),
                   .pair = pair_.get(),
                   .open_connections = [this] { return sessions_.size(); }});
  StartTimers();
  pair_->Start();
  Log("server")->info("listening on {} data_dir={} site_version={} pair_role={}", endpoint_,
                      dir_.root, settings().site_version, pair::ToString(pair_->role()));
  return {};
}

Status Server::OpenStore() {
  auto store = store::Store::Open({
      .path = dir_.db_path,
      .post_to_loop = [this](std::function<void()> task) { PostGuarded(std::move(task)); },
  });
  if (!store) return Context(store.error(), "database " + dir_.db_path);
  store_ = std::move(*store);
  auto reader = store::Store::Open({
      .path = dir_.db_path,
      .post_to_loop = [this](std::function<void()> task) { PostGuarded(std::move(task)); },
      .read_only = true,
      .nice = 10,
  });
  if (!reader) return Context(reader.error(), "database " + dir_.db_path + " (reader)");
  reader_ = std::move(*reader);
  if (auto swept = SweepOrphanedPackages(); !swept) return swept;
  auto stored = store_->Call<std::map<std::string, std::string>>(
      [](db::Database& db) -> Result<std::map<std::string, std::string>> {
        if (auto offline = store::MarkAllOffline(db); !offline) return Fail(offline.error());
        return store::AllSettings(db);
      });
  if (!stored) return Context(stored.error(), "loading settings");
  auto loaded = SiteSettings::FromMap(*stored);
  if (!loaded) return Fail(loaded.error());
  settings_ = std::make_unique<SettingsService>(SettingsServiceOptions{
      .store = store_.get(), .clock = options_.clock, .initial = std::move(*loaded)});
  return {};
}

Status Server::OpenMetrics() {
  auto metrics = metrics::MetricsService::Open({.loop = &loop_,
                                                .store = store_.get(),
                                                .reader = reader_.get(),
                                                .token_path = dir_.metrics_token_path,
                                                .started_ms = started_ms_,
                                                .census_interval_ms = options_.metrics_census_ms});
  if (!metrics) return Fail(metrics.error());
  metrics_ = std::move(*metrics);
  return {};
}

Status Server::OpenPair() {
  pair::PairOptions options = options_.pair;
  options.lease_ttl_ms = options_.upgrade.lease_ttl_ms;
  auto opened = pair::PairService::Open(
      pair::PairService::Host{
          .loop = &loop_,
          .store = store_.get(),
          .clock = options_.clock,
          .data_root = std::filesystem::absolute(dir_.root).lexically_normal().string(),
          .advertised = options_.advertise,
          .site_version = [this] { return settings().site_version; },
          .sync_every_minutes = [this] { return settings().pair_sync_every_minutes; },
          .restart =
              [this](std::function<Status()> after_close) { Restart(std::move(after_close)); },
          .stop_client_work = [this] { StopClientWork(); },
          .confirmed_primary =
              [this] {
                if (pair_->grant_fence_until_ms() > options_.clock->WallMs()) {
                  upgrades_->HoldGrantsUntil(pair_->grant_fence_until_ms());
                } else {
                  upgrades_->ResumeGrants();
                }
              },
      },
      options);
  if (!opened) return Context(opened.error(), "failover pair");
  pair_ = std::move(*opened);
  return pair_->ApplyPendingIdRange();
}

Status Server::OpenUpgrades() {
  upgrades_ = std::make_unique<UpgradeCoordinator>(
      UpgradeCoordinator::Host{.store = store_.get(),
                               .clock = options_.clock,
                               .loop = &loop_,
                               .settings = settings_.get(),
                               .clients = &sessions_,
                               .metrics = &metrics_->metrics()},
      options_.upgrade);
  // A backup runs no throttle: its leases are the primary's, as of the last sync, and are
  // loaded only once it takes over.
  if (pair_->role() == pair::Role::kBackup) {
    upgrades_->HoldGrantsUntil(INT64_MAX);
  } else {
    if (auto restored = upgrades_->Restore(); !restored) return Fail(restored.error());
    // A primary grants only once it knows its peer did not take over meanwhile (and after a
    // takeover's fence): the pair service confirms it.
    if (pair_->role() == pair::Role::kPrimary) upgrades_->HoldGrantsUntil(INT64_MAX);
  }
  const auto rate = static_cast<double>(upgrades_->connection_rate());
  accept_bucket_ = std::make_unique<TokenBucket>(rate, rate, static_cast<int64_t>(loop_.NowMs()));
  upgrades_->on_connection_rate_changed = [this](uint64_t changed) {
    accept_bucket_->SetRate(static_cast<double>(changed), static_cast<double>(changed),
                            static_cast<int64_t>(loop_.NowMs()));
  };
  return {};
}

Status Server::Listen() {
  certificate_ = std::make_unique<SiteCertificate>(dir_, [this](const std::string& pin) {
    if (installers_) installers_->SetCertificatePin(pin);
  });
  if (auto loaded = certificate_->Load(); !loaded) return Fail(loaded.error());
  auto host_port = uv::SplitHostPort(options_.listen);
  auto listener = uv::Listener::ListenTcp(
      loop_, host_port->first, host_port->second, kListenBacklog,
      [this](uv::HandlePtr<uv::Stream> stream) { OnAccept(std::move(stream)); });
  if (!listener) return Context(listener.error(), "--listen " + options_.listen);
  listener_ = std::move(*listener);
  endpoint_ = listener_->LocalAddress();
  advertise_ = AdvertisedEndpoint(options_.advertise, host_port->first, listener_->LocalPort());
  return {};
}

void Server::OpenCheckin() {
  const std::filesystem::path root = std::filesystem::absolute(dir_.root);
  std::optional<msi::SigningConfig> code_signing;
  if (!options_.code_signing_cert.empty()) {
    code_signing = msi::SigningConfig{.cert_pem = options_.code_signing_cert,
                                      .key_pem = options_.code_signing_key,
                                      .description = "Sluice client",
                                      .password = {}};
  }
  installers_ = std::make_unique<InstallerService>(InstallerServiceOptions{
      .loop = &loop_,
      .store = store_.get(),
      .clock = options_.clock,
      .signing_key = dir_.signing_key ? &*dir_.signing_key : nullptr,
      .installers_dir = (root / "installers").string(),
      .templates_dir = (root / "cache" / "templates").string(),
      .endpoint = advertise_,
      .certificate_pin = dir_.certificate_pin,
      .site_version = [this] { return settings().site_version; },
      .code_signing = std::move(code_signing),
      .min_validity_ms = options_.min_installer_validity_s * 1000,
  });
  checkin_ = std::make_unique<CheckinService>(CheckinServiceOptions{
      .store = store_.get(),
      .clock = options_.clock,
      .installers = installers_.get(),
      .enrollment_key = dir_.enrollment_key,
  });
  session_services_ = SessionServices{.settings = settings_.get(),
                                      .clock = options_.clock,
                                      .checkin = checkin_.get(),
                                      .upgrades = upgrades_.get(),
                                      .registry = &sessions_,
                                      .pair = pair_.get(),
                                      .metrics = &metrics_->metrics()};
}

Status Server::OpenUpdates() {
  auto updates = UpdateManager::Create(UpdateManager::Host{.loop = &loop_,
                                                           .store = store_.get(),
                                                           .dir = &dir_,
                                                           .clock = options_.clock,
                                                           .settings = settings_.get()},
                                       options_.updates);
  if (!updates) return Context(updates.error(), "site updates");
  updates_ = std::move(*updates);
  return {};
}

void Server::OnSettingChanged(const SettingChange& change) {
  if (change.key == "backup_every_hours" && backups_) {
    backups_->Tick(settings().backup_every_hours, settings().backup_keep);
  }
  // Clients reconnect at once and check in against the new version.
  if (change.reconnect_clients) ReconnectAllClients();
  if (change.key != "site_version") return;
  // The site moved: connected outdated clients start upgrading now, and installers made for
  // older versions are rebuilt for the new one.
  upgrades_->OnSiteVersionChanged();
  installers_->RegenerateOutdated(settings().site_version);
}

void Server::StartTimers() {
  trim_timer_ = uv::Timer::Create(loop_);
  trim_timer_->Start(kTrimIntervalMs, kTrimIntervalMs, [this] {
    TrimMemory();
    ReportShedConnections();
  });
  // A backup's data is the primary's: it sweeps, renews and backs up nothing of its own.
  if (pair_->role() == pair::Role::kBackup) return;
  sweep_timer_ = uv::Timer::Create(loop_);
  sweep_timer_->Start(0, kSweepIntervalMs, [this] { SweepStaleClients(); });
  certificate_timer_ = uv::Timer::Create(loop_);
  certificate_timer_->Start(kCertificateCheckMs, kCertificateCheckMs, [this] { RenewCertificate(); });
  backup_timer_ = uv::Timer::Create(loop_);
  backup_timer_->Start(kBackupCheckMs, kBackupCheckMs, [this] {
    backups_->Tick(settings().backup_every_hours, settings().backup_keep);
  });
}

void Server::OnAccept(uv::HandlePtr<uv::Stream> stream) {
  if (!AdmitConnection()) return;  // `stream` closes here, before any TLS work
  metrics_->metrics().Accepted();
  auto tls = tls::TlsSession::Create(certificate_->context());
  if (!tls) {
    metrics_->metrics().Refused(metrics::kRefusedTlsSession);
    Log("net")->error("cannot create TLS session peer={} error=\"{}\"", stream->peer_address(),
                      tls.error().ToString());
    return;
  }
  (void)stream->SetNoDelay(true);
  sessions_
      .Add(std::make_unique<ClientSession>(
          session_services_, loop_, std::move(stream), std::move(*tls),
          net::ConnectionOptions{.max_frame_bytes = options_.max_frame_bytes,
                                 .handshake_timeout_ms = options_.handshake_timeout_ms}))
      .Start();
}

bool Server::AdmitConnection() {
  if (accept_bucket_->TryTake(1, static_cast<int64_t>(loop_.NowMs()))) return true;
  ++shed_since_report_;
  metrics_->metrics().Refused(metrics::kRefusedRate);
  return false;
}

void Server::ReportShedConnections() {
  if (shed_since_report_ == 0) return;
  Log("net")->info("connection rate limit: closed {} connections at once (connection_rate_per_s={})",
                   shed_since_report_, upgrades_->connection_rate());
  shed_since_report_ = 0;
}

void Server::TrimMemory() {
  churn_since_trim_ += sessions_.TakeChurn();
  if (churn_since_trim_ < kTrimAfterConnectionChurn) return;
  churn_since_trim_ = 0;
  ::malloc_trim(0);
}

void Server::RenewCertificate() { certificate_->RenewIfDue(options_.clock->WallMs() / 1000); }

void Server::SweepStaleClients() {
  store_->Submit<store::SweepResult>(
      [now = options_.clock->WallMs(), lost = settings().lost_after_days,
       deleted = settings().delete_after_days](db::Database& db) {
        return store::SweepStaleClients(db, now, lost, deleted);
      },
      [](Result<store::SweepResult> swept) {
        if (!swept) {
          Log("server")->error("stale-client sweep failed: {}", swept.error().ToString());
        } else if (swept->marked_lost > 0 || swept->deleted > 0) {
          Log("server")->info("stale-client sweep lost={} deleted={}", swept->marked_lost,
                              swept->deleted);
        }
      });
}

void Server::ReconnectAllClients() {
  const auto sessions = sessions_.CheckedInSessions();
  Log("server")->info("telling connected clients to reconnect count={}", sessions.size());
  for (ClientSession* session : sessions) {
    session->SendErrorAndClose(proto::ErrorCode::kReconnect, "the site was updated; reconnect now");
  }
}

void Server::Restart(std::function<Status()> after_close) {
  restart_requested_ = true;
  after_close_ = std::move(after_close);
  Shutdown();
}

void Server::StopClientWork() {
  upgrades_->HoldGrantsUntil(INT64_MAX);
  for (ClientSession* session : sessions_.CheckedInSessions()) {
    session->SendErrorAndClose(proto::ErrorCode::kNotPrimary,
                               "this server is handing over to its failover pair's backup; "
                               "retry later");
  }
}

void Server::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  Log("server")->info("shutting down connections={}", sessions_.size());
  listener_.reset();
  sweep_timer_.reset();
  trim_timer_.reset();
  backup_timer_.reset();
  if (metrics_) metrics_->Stop();
  if (admin_) admin_->Stop();
  sessions_.CloseAll();
  // The reader closes first so that the writer is the last connection: SQLite checkpoints and
  // removes the write-ahead log only when the last connection closes, and a read-only one cannot.
  if (reader_) reader_->Close();
  if (store_) {
    // Blocking on purpose: the server is going away and these writes must land first.
    (void)store_->Call<void>([](db::Database& db) { return store::MarkAllOffline(db); });
    store_->Close();
  }
  backups_.reset();  // after the store closed: a running copy ends at its next step
  if (after_close_) {
    if (auto done = std::exchange(after_close_, nullptr)(); !done) {
      Log("server")->critical("cannot restart: {}", done.error().ToString());
      restart_error_ = done.error();
      restart_requested_ = false;
    }
  }
  loop_.Defer([&loop = loop_] { loop.Stop(); });
}

void Server::PostGuarded(std::function<void()> task) {
  loop_.Post([alive = lifetime_.Token(), task = std::move(task)] {
    if (!alive.lock()) return;
    // Last line of defence: a bug in one completion must not take the site down.
    try {
      task();
    } catch (const std::exception& e) {
      Log("server")->critical("completion threw: {}", e.what());
    }
  });
}

}  // namespace sluice::server
