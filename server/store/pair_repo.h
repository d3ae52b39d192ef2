#pragma once
// What a failover pair needs of the database (server/pair). Plain functions for store jobs.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/db/database.h"
#include "server/store/audit_repo.h"

namespace sluice::store {

// Audit seqs and lease ids are handed out in ranges of 2^32. A synced copy that starts writing
// (a takeover, a break) moves both to the next range, so its rows and leases never collide with
// those its old primary made after the last sync: the two logs can be merged and replayed
// together. Writes the audit row `event` (pair_takeover or pair_break) as the first of the new
// range, its lease_id the range's first (the next lease gets the one after). Returns that
// first id. Errors: kDatabase.
inline constexpr int kIdRangeBits = 32;
[[nodiscard]] Result<uint64_t> StartIdRange(db::Database& db, int64_t wall_ms,
                                            const std::string& event, const std::string& detail);

// --- Merging what a server wrote while its pair was broken (server/pair). ---
// The highest audit seq this server holds in each id range (range = seq >> kIdRangeBits).
[[nodiscard]] Result<std::map<int64_t, int64_t>> AuditRangeTops(db::Database& db);
// This server's audit rows that a server holding `tops` lacks (a seq above the top of its
// range there, or in a range it does not have), in seq order after `after_seq`, at most `limit`.
[[nodiscard]] Result<std::vector<AuditRow>> AuditRowsBeyond(db::Database& db,
                                                            const std::map<int64_t, int64_t>& tops,
                                                            int64_t after_seq, int limit);
// Inserts rows of the other server with their own seqs; rows already held are skipped (no
// duplicates). Returns how many were new.
[[nodiscard]] Result<int> InsertAuditRows(db::Database& db, const std::vector<AuditRow>& rows);

}  // namespace sluice::store
