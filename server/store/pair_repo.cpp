#include "server/store/pair_repo.h"

#include "server/store/audit_repo.h"

namespace sluice::store {

Result<uint64_t> StartIdRange(db::Database& db, int64_t wall_ms, const std::string& event,
                              const std::string& detail) {
  if (!IsAuditEvent(event))
    return Fail(Errc::kInvalidArgument, "audit: unknown event '" + event + "'");
  int64_t largest = 0;
  auto read = db.Query(
      "SELECT max((SELECT coalesce(max(seq), 0) FROM audit), "
      "(SELECT coalesce(max(lease_id), 0) FROM audit), "
      "(SELECT coalesce(max(id), 0) FROM leases), "
      "(SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'audit'))",
      [&largest](const db::Statement& row) { largest = row.Int64(0); });
  if (!read) return Context(read.error(), "reading the id range");
  const int64_t first = ((largest >> kIdRangeBits) + 1) << kIdRangeBits;
  auto inserted = db.Run(
      "INSERT INTO audit (seq, wall_ms, mono_ms, event, lease_id, detail) "
      "VALUES (?1, ?2, 0, ?3, ?1, ?4)",
      first, wall_ms, event, detail + "; ids continue from " + std::to_string(first));
  if (!inserted) return Context(inserted.error(), "starting a new id range");
  return static_cast<uint64_t>(first);
}

Result<std::map<int64_t, int64_t>> AuditRangeTops(db::Database& db) {
  std::map<int64_t, int64_t> tops;
  auto read = db.Query(
      "SELECT seq >> ?1, max(seq) FROM audit GROUP BY seq >> ?1",
      [&tops](const db::Statement& row) { tops[row.Int64(0)] = row.Int64(1); }, kIdRangeBits);
  if (!read) return Context(read.error(), "reading the audit log's id ranges");
  return tops;
}

Result<std::vector<AuditRow>> AuditRowsBeyond(db::Database& db,
                                              const std::map<int64_t, int64_t>& tops,
                                              int64_t after_seq, int limit) {
  std::vector<AuditRow> rows;
  // Walks this server's rows after `after_seq` in pages, keeping those the other lacks; few
  // ranges exist, so the filter is a lookup per row.
  int64_t cursor = after_seq;
  while (static_cast<int>(rows.size()) < limit) {
    bool any = false;
    auto read = db.Query(
        "SELECT " SLUICE_AUDIT_COLUMNS " FROM audit WHERE seq > ?1 ORDER BY seq LIMIT 1000",
        [&](const db::Statement& row) {
          any = true;
          cursor = row.Int64(0);
          auto top = tops.find(cursor >> kIdRangeBits);
          if (top != tops.end() && cursor <= top->second) return;
          if (static_cast<int>(rows.size()) >= limit) return;
          rows.push_back(ReadAuditRow(row));
        },
        cursor);
    if (!read) return Context(read.error(), "reading the audit rows to merge");
    if (!any) break;
  }
  return rows;
}

Result<int> InsertAuditRows(db::Database& db, const std::vector<AuditRow>& rows) {
  int inserted = 0;
  for (const AuditRow& r : rows) {
    auto run = db.Run(
        "INSERT OR IGNORE INTO audit (seq, wall_ms, mono_ms, event, scope, client_id, lease_id, "
        "version, detail, running, limit_value) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        r.seq, r.wall_ms, r.mono_ms, r.event, r.scope, r.client_id,
        static_cast<int64_t>(r.lease_id), r.version, r.detail, r.running, r.limit_value);
    if (!run) return Context(run.error(), "merging audit row " + std::to_string(r.seq));
    inserted += db.Changes() > 0 ? 1 : 0;
  }
  return inserted;
}

}  // namespace sluice::store
