// Server's admin side: the admin socket with every command, and the dashboard, which runs the
// same commands as the logged-in admin. server.cpp builds the other services.

#include <filesystem>

#include "common/crypto/encoding.h"
#include "server/admin/account_commands.h"
#include "server/admin/admin_commands.h"
#include "server/admin/backup_commands.h"
#include "server/admin/cert_commands.h"
#include "server/admin/fleet_commands.h"
#include "server/admin/installer_commands.h"
#include "server/admin/metrics_commands.h"
#include "server/admin/package_commands.h"
#include "server/admin/pair_commands.h"
#include "server/admin/update_commands.h"
#include "server/admin/upgrade_commands.h"
#include "server/server.h"

namespace sluice::server {

Status Server::OpenAdmin() {
  auto admin = admin::AdminServer::Start(loop_, dir_.admin_socket_path);
  if (!admin) return Context(admin.error(), "admin socket");
  admin_ = std::move(*admin);
  // status and fleet answer from one count of the clients (the dashboard polls both).
  auto client_counts = MakeClientCountsRead(*reader_, *options_.clock);
  RegisterAdminCommands(
      *admin_,
      SiteFacts{.listen = endpoint_,
                .advertised = advertise_,
                .certificate_pin = [this] { return dir_.certificate_pin; },
                .enrollment_key = dir_.enrollment_key,
                .signing_public_key =
                    dir_.signing_key ? crypto::Base64Encode(dir_.signing_key->PublicKey()) : "",
                .started_ms = started_ms_,
                .connection_count = [this] { return sessions_.size(); }},
      *settings_, *store_, client_counts, *options_.clock);
  // A client for installers at the site's version: installers still waiting for it catch up.
  RegisterPackageCommands(
      *admin_, loop_, *store_, dir_, *options_.clock, [this](const PackageRecord& added) {
        if (added.platform == kInstallerPlatform && added.version == settings().site_version) {
          installers_->RegenerateOutdated(settings().site_version);
        }
      });
  RegisterUpgradeCommands(*admin_, *upgrades_, *settings_, *store_, *reader_, *options_.clock);
  RegisterFleetCommands(*admin_, *reader_, client_counts, [this](const std::string& kind) {
    return upgrades_->ManualUpgradeApplies(kind);
  });
  RegisterAccountCommands(
      *admin_, loop_, *store_, *options_.clock,
      AccountOptions{.on_credentials_changed = lifetime_.Guard([this](const std::string& name) {
        if (web_) web_->RevokeSessions(name);
      })});
  RegisterUpdateCommands(*admin_, *updates_, *store_, *options_.clock);
  RegisterInstallerCommands(*admin_, *installers_, *options_.clock, *store_);
  // No trailing '/': the root is the prefix a restore rewrites in stored paths.
  std::string data_root = std::filesystem::absolute(dir_.root).lexically_normal().string();
  if (data_root.size() > 1 && data_root.ends_with('/')) data_root.pop_back();
  backups_ = std::make_unique<backup::BackupService>(
      backup::BackupService::Host{.loop = &loop_,
                                  .store = store_.get(),
                                  .clock = options_.clock,
                                  .data_root = std::move(data_root),
                                  .scrypt = {}});
  RegisterBackupCommands(*admin_, *backups_, *settings_, *store_, *options_.clock);
  RegisterCertCommands(*admin_, *certificate_, *store_, *options_.clock,
                       ServedAt{.listen = endpoint_, .advertised = advertise_});
  pair_upgrade_ = std::make_unique<pair::PairUpgrade>(pair::PairUpgrade::Host{
      .loop = &loop_,
      .store = store_.get(),
      .clock = options_.clock,
      .pair = pair_.get(),
      .backups = backups_.get(),
      .updates = updates_.get(),
      .settings = settings_.get(),
      .data_root = std::filesystem::absolute(dir_.root).lexically_normal().string()});
  RegisterPairCommands(*admin_, *pair_, *pair_upgrade_);
  RegisterMetricsCommands(*admin_, metrics_->scrape_token(), *store_, *options_.clock,
                          /*synced_copy=*/pair_->role() == pair::Role::kBackup);
  // A backup's site is the primary's and every sync replaces it: changes go to the primary.
  if (pair_->role() == pair::Role::kBackup) {
    for (const char* cmd :
         {"settings-set", "limits-set", "policy-set", "site-set-version", "upgrade",
          "rollout-canary", "rollout-resume", "rollout-abort", "package-add", "installer-create",
          "installer-extend", "installer-delete", "update-install", "update-install-file",
          "backup-schedule", "cert-import", "admin-add", "admin-passwd", "admin-remove"}) {
      admin_->Register(cmd, [cmd](const nlohmann::json&, admin::Reply reply) {
        reply(Fail(Errc::kInvalidArgument,
                   std::string(cmd) +
                       ": this server is a failover pair's backup; its site is the primary's and "
                       "every sync replaces it: make the change on the primary (or break the "
                       "pair first)"));
      });
    }
  }
  return {};
}

void Server::OpenDashboard() {
  web_ = std::make_unique<web::WebApp>(
      loop_, web::WebAppServices{.admin = admin_.get(),
                                 .store = store_.get(),
                                 .clock = options_.clock,
                                 .scrape_token_matches =
                                     [this](std::string_view bearer) {
                                       return metrics_->scrape_token().Matches(bearer);
                                     },
                                 .render_metrics = [this] { return metrics_->Render(); }});
  session_services_.web = web_.get();
  session_services_.http = options_.http;
}

}  // namespace sluice::server
