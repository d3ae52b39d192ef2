#pragma once
// The throttle's audit log (table `audit`, schema v3): one row per grant, progress, finish,
// failure, rollback, expiry, limit or knob change and server start, and the site's backups,
// restores and certificate imports. It is the evidence that the
// limit held (sched::ReplayAudit) and what `sluicectl audit` shows.
//
// Plain functions over a connection; call them from a store job (or any thread that owns the
// db::Database).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"
#include "common/db/database.h"

namespace sluice::store {

// Event names (AuditRow::event).
namespace audit_event {
inline constexpr char kGrant[] = "grant";
inline constexpr char kProgress[] = "progress";
inline constexpr char kFinish[] = "finish";
inline constexpr char kFail[] = "fail";
inline constexpr char kRollback[] = "rollback";
inline constexpr char kExpire[] = "expire";
inline constexpr char kLimitChange[] = "limit_change";
inline constexpr char kServerStart[] = "server_start";
inline constexpr char kBandwidthChange[] = "bandwidth_change";
inline constexpr char kConnectionRateChange[] = "connection_rate_change";
inline constexpr char kPolicyChange[] = "policy_change";
inline constexpr char kGateChange[] = "gate_change";        // canary wave / halt threshold set
inline constexpr char kRolloutWave[] = "rollout_wave";      // a canary wave started
inline constexpr char kRolloutHalt[] = "rollout_halt";      // too many failures: no grants
inline constexpr char kRolloutResume[] = "rollout_resume";  // the admin continued it
inline constexpr char kRolloutAbort[] = "rollout_abort";    // the admin stopped it
inline constexpr char kPackageMissing[] = "package_missing";  // a package file is unreadable
inline constexpr char kBackup[] = "backup";                   // a backup file was written
inline constexpr char kRestore[] = "restore";  // this log was restored from a backup here
inline constexpr char kCertificateImport[] = "certificate_import";  // the served cert changed
inline constexpr char kMetricsToken[] = "metrics_token";  // the scrape token was made or replaced
// Failover pair (docs/admin.md, "Failover pair"): a synced copy starts writing — a backup took
// over (pair_takeover) or stands alone after a break (pair_break); its ids move to a new range.
inline constexpr char kPairTakeover[] = "pair_takeover";
inline constexpr char kPairBreak[] = "pair_break";
inline constexpr char kPairUpgradeStep[] = "pair_upgrade_step";  // a guided pair upgrade's step
// Admin accounts of the web dashboard (scope "", detail "name=<name>; by=<actor>"; never a
// password).
inline constexpr char kAdminAdd[] = "admin_add";
inline constexpr char kAdminPasswd[] = "admin_passwd";
inline constexpr char kAdminRemove[] = "admin_remove";
// Admin changes written by the admin commands once the change succeeded (detail: what, by=).
inline constexpr char kSettingsChange[] = "settings_change";  // settings-set, site-set-version
inline constexpr char kManualUpgrade[] = "manual_upgrade";    // upgrade CLIENT allowed
inline constexpr char kPackageAdd[] = "package_add";
inline constexpr char kInstallerCreate[] = "installer_create";
inline constexpr char kInstallerExtend[] = "installer_extend";
inline constexpr char kInstallerDelete[] = "installer_delete";
inline constexpr char kUpdateInstall[] = "update_install";
// The dashboard (docs/admin.md, "Dashboard"): an admin logged in, or a login failed.
inline constexpr char kWebLogin[] = "web_login";
inline constexpr char kWebLoginFailed[] = "web_login_failed";
}  // namespace audit_event

// `detail` with "by=<actor>" appended as its last "; "-separated field (sched::DetailField reads
// it back), or `detail` unchanged for an empty actor. Every admin change carries its actor:
// "local:<user>" (the admin socket) or "web:<admin>" (the dashboard).
std::string WithActor(std::string detail, std::string_view actor);

// True for the names above.
bool IsAuditEvent(std::string_view event);

// One audit row. `running` and `limit_value` are the scope's running count and limit right
// after the event. `mono_ms` is the server's monotonic clock: it restarts with the server, so
// order rows by `seq`, never by a clock. Members all have initializers so designated
// initializers may omit any of them.
struct AuditRow {
  int64_t seq = 0, wall_ms = 0, mono_ms = 0;
  std::string event{}, scope{}, client_id{};
  uint64_t lease_id = 0;
  std::string version{}, detail{};
  int running = 0, limit_value = 0;
  bool operator==(const AuditRow&) const = default;
};

// The columns of a whole row, in the order ReadAuditRow reads them.
#define SLUICE_AUDIT_COLUMNS                                                             \
  "seq, wall_ms, mono_ms, event, scope, client_id, lease_id, version, detail, running, " \
  "limit_value"
AuditRow ReadAuditRow(const db::Statement& row);

// Appends `row` (its `seq` is ignored) and returns the seq assigned: larger than every seq
// ever assigned, even to rows since deleted. Errors: kInvalidArgument for an unknown event;
// kDatabase.
[[nodiscard]] Result<int64_t> AppendAudit(db::Database& db, const AuditRow& row);
// AppendAudit for a store job that only needs to know it worked.
[[nodiscard]] Status AppendAuditRow(db::Database& db, const AuditRow& row);

// The rows with wall_ms >= since_wall_ms, ordered by seq. With limit > 0 only the newest
// `limit` of them (still in seq order), like `tail`; limit <= 0 returns them all.
// Errors: kDatabase.
[[nodiscard]] Result<std::vector<AuditRow>> ListAudit(db::Database& db, int64_t since_wall_ms,
                                                      int64_t limit);

// What ListAuditFiltered returns: rows matching every non-empty member, the newest `limit` of
// them (still in seq order). 0 leaves a number unbounded.
struct AuditFilter {
  std::string event{}, scope{}, client_id{};
  int64_t since_ms = 0;    // wall_ms >= since_ms
  int64_t until_ms = 0;    // wall_ms < until_ms
  int64_t before_seq = 0;  // seq < before_seq: the previous page starts below its smallest seq
  int64_t limit = 0;
};
// Uses audit_event_seq for an event filter and audit_client for a client (schema v7).
// Errors: kDatabase.
[[nodiscard]] Result<std::vector<AuditRow>> ListAuditFiltered(db::Database& db,
                                                              const AuditFilter& filter);

// How many fail, rollback and expire rows have wall_ms >= since_wall_ms, by event name. All
// three keys are present (0 when none). Errors: kDatabase.
[[nodiscard]] Result<std::map<std::string, int64_t>> CountFailures(db::Database& db,
                                                                   int64_t since_wall_ms);

// Whether the log has a grant of `lease_id` to `client_id` (a lease may have ended since).
// Errors: kDatabase.
[[nodiscard]] Result<bool> LeaseGrantedTo(db::Database& db, uint64_t lease_id,
                                          std::string_view client_id);

}  // namespace sluice::store
