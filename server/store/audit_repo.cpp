#include "server/store/audit_repo.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

#include "server/store/dynamic_query.h"

namespace sluice::store {
namespace {

constexpr std::array<std::string_view, 36> kEvents = {
    audit_event::kGrant,           audit_event::kProgress,
    audit_event::kFinish,          audit_event::kFail,
    audit_event::kRollback,        audit_event::kExpire,
    audit_event::kLimitChange,     audit_event::kServerStart,
    audit_event::kBandwidthChange, audit_event::kConnectionRateChange,
    audit_event::kPolicyChange,    audit_event::kGateChange,
    audit_event::kRolloutWave,     audit_event::kRolloutHalt,
    audit_event::kRolloutResume,   audit_event::kRolloutAbort,
    audit_event::kPackageMissing,  audit_event::kBackup,
    audit_event::kRestore,         audit_event::kCertificateImport,
    audit_event::kPairTakeover,    audit_event::kPairBreak,
    audit_event::kPairUpgradeStep, audit_event::kAdminAdd,
    audit_event::kAdminPasswd,     audit_event::kAdminRemove,
    audit_event::kSettingsChange,  audit_event::kManualUpgrade,
    audit_event::kPackageAdd,      audit_event::kInstallerCreate,
    audit_event::kInstallerExtend, audit_event::kInstallerDelete,
    audit_event::kUpdateInstall,   audit_event::kMetricsToken,
    audit_event::kWebLogin,        audit_event::kWebLoginFailed,
};

}  // namespace

AuditRow ReadAuditRow(const db::Statement& row) {
  return AuditRow{.seq = row.Int64(0),
                  .wall_ms = row.Int64(1),
                  .mono_ms = row.Int64(2),
                  .event = row.Text(3),
                  .scope = row.Text(4),
                  .client_id = row.Text(5),
                  .lease_id = static_cast<uint64_t>(row.Int64(6)),
                  .version = row.Text(7),
                  .detail = row.Text(8),
                  .running = static_cast<int>(row.Int64(9)),
                  .limit_value = static_cast<int>(row.Int64(10))};
}

bool IsAuditEvent(std::string_view event) {
  return std::find(kEvents.begin(), kEvents.end(), event) != kEvents.end();
}

Result<int64_t> AppendAudit(db::Database& db, const AuditRow& r) {
  if (!IsAuditEvent(r.event)) {
    return Fail(Errc::kInvalidArgument, "audit: unknown event '" + r.event + "'");
  }
  auto inserted = db.Run(
      "INSERT INTO audit (wall_ms, mono_ms, event, scope, client_id, lease_id, version, detail, "
      "running, limit_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
      r.wall_ms, r.mono_ms, r.event, r.scope, r.client_id, static_cast<int64_t>(r.lease_id),
      r.version, r.detail, r.running, r.limit_value);
  if (!inserted) return Context(inserted.error(), "appending audit event " + r.event);
  return db.LastInsertRowId();
}

Status AppendAuditRow(db::Database& db, const AuditRow& row) {
  auto appended = AppendAudit(db, row);
  if (!appended) return Fail(appended.error());
  return {};
}

Result<std::vector<AuditRow>> ListAudit(db::Database& db, int64_t since_wall_ms, int64_t limit) {
  std::vector<AuditRow> rows;
  // The newest `limit` rows (LIMIT -1 is no limit), turned back into seq order.
  auto read = db.Query(
      "SELECT * FROM ("
      "SELECT " SLUICE_AUDIT_COLUMNS
      " FROM audit WHERE wall_ms >= ?1 ORDER BY seq DESC LIMIT ?2"
      ") ORDER BY seq",
      [&rows](const db::Statement& row) { rows.push_back(ReadAuditRow(row)); }, since_wall_ms,
      limit > 0 ? limit : int64_t{-1});
  if (!read) return Context(read.error(), "listing the audit log");
  return rows;
}

Result<std::vector<AuditRow>> ListAuditFiltered(db::Database& db, const AuditFilter& f) {
  DynamicQuery query;
  for (auto [value, column] :
       {std::pair{&f.event, "event"}, {&f.client_id, "client_id"}, {&f.scope, "scope"}}) {
    if (!value->empty()) query.Where(std::string(column) + " = " + query.Param(*value));
  }
  if (!f.client_id.empty()) query.Where("client_id <> ''");  // lets audit_client (partial) serve
  if (f.since_ms != 0) query.Where("wall_ms >= " + query.Param(f.since_ms));
  if (f.until_ms != 0) query.Where("wall_ms < " + query.Param(f.until_ms));
  if (f.before_seq != 0) query.Where("seq < " + query.Param(f.before_seq));
  const std::string limit = query.Param(f.limit > 0 ? f.limit : int64_t{-1});
  std::vector<AuditRow> rows;
  // The newest `limit` rows, turned back into seq order.
  auto read =
      query.Run(db,
                "SELECT * FROM (SELECT " SLUICE_AUDIT_COLUMNS " FROM audit" + query.WhereClause() +
                    " ORDER BY seq DESC LIMIT " + limit + ") ORDER BY seq",
                [&rows](const db::Statement& row) { rows.push_back(ReadAuditRow(row)); });
  if (!read) return Context(read.error(), "listing the audit log");
  return rows;
}

std::string WithActor(std::string detail, std::string_view actor) {
  if (actor.empty()) return detail;
  return detail + (detail.empty() ? "" : "; ") + "by=" + std::string(actor);
}

Result<std::map<std::string, int64_t>> CountFailures(db::Database& db, int64_t since_wall_ms) {
  std::map<std::string, int64_t> counts = {
      {audit_event::kFail, 0}, {audit_event::kRollback, 0}, {audit_event::kExpire, 0}};
  auto read = db.Query(
      "SELECT event, count(*) FROM audit WHERE wall_ms >= ?1 "
      "AND event IN ('fail', 'rollback', 'expire') GROUP BY event",
      [&counts](const db::Statement& row) { counts[row.Text(0)] = row.Int64(1); }, since_wall_ms);
  if (!read) return Context(read.error(), "counting failed upgrades");
  return counts;
}

Result<bool> LeaseGrantedTo(db::Database& db, uint64_t lease_id, std::string_view client_id) {
  bool granted = false;
  auto read = db.Query(
      "SELECT 1 FROM audit WHERE lease_id = ?1 AND lease_id > 0 AND event = 'grant' "
      "AND client_id = ?2 LIMIT 1",
      [&granted](const db::Statement&) { granted = true; }, static_cast<int64_t>(lease_id),
      std::string(client_id));
  if (!read) return Context(read.error(), "looking up the grant of lease " + std::to_string(lease_id));
  return granted;
}

}  // namespace sluice::store
