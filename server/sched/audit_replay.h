#pragma once
// Replays the throttle's audit log to prove invariant 1 after the fact: at no instant did more
// upgrades run in a scope than the limit in force, across restarts, failovers and limit
// changes. Used by tests, benchmarks and post-mortems over a real server's database.
//
// Pure function; thread-safe.

#include <map>
#include <string>
#include <vector>

#include "server/store/audit_repo.h"

namespace sluice::sched {

struct ReplayResult {
  // Most leases running at once, per scope that saw a grant.
  std::map<std::string, int> max_running;
  // Grants that left running above the limit in force at that moment, per scope (absent: 0).
  std::map<std::string, int> violations;
  // Inconsistencies that are not limit violations, one human-readable line each, prefixed with
  // the row's seq: an end or progress of a lease never granted, a lease granted twice, a client
  // holding two leases, a row whose recorded running count or limit disagrees with the replay,
  // a grant in a scope with no known limit, an unknown event, a repeated seq.
  std::vector<std::string> problems;
};

// Walks `rows` in seq order (they need not be sorted) and tracks the live leases of each scope:
//  - grant starts a lease; progress must name a live lease;
//  - finish / fail / rollback / expire end a lease, once: ending an already-ended lease (a
//    finish after its expiry, a repeated finish) changes nothing and is no problem; ending a
//    lease never granted is one;
//  - limit_change sets the scope's limit to its limit_value; other rows' limit_value > 0 must
//    agree with it (the first row of a scope seen sets it when no limit_change has);
//  - server_start changes nothing: leases survive a restart (the server restores them);
//  - bandwidth_change, connection_rate_change, policy_change are ignored;
//  - pair_takeover (a failover pair's backup took over, docs/admin.md "The limit across a
//    failover") carries "restored_leases=ID,ID,..." and "fence_until_ms=N" in its detail: the
//    leases live in the replay that the new primary did not restore were granted by the old
//    primary after the last sync and end with it (unseen by the new one, they expire by the
//    fence); a grant before the fence is a violation.
// A grant is a violation when, after it, running > the limit in force (the lower of the tracked
// limit and the grant's own limit_value when they disagree). Lowering a limit below running is
// not a violation: only a later grant above it is.
ReplayResult ReplayAudit(const std::vector<store::AuditRow>& rows);

// The logs of the servers of a failover pair replayed as one: a row present in several of them
// (a synced copy keeps the seq it had) counts once; two different rows with one seq are a
// problem. Seqs do not collide otherwise: a synced copy that starts writing moves to a new id
// range (store/pair_repo.h).
ReplayResult ReplayAuditLogs(const std::vector<std::vector<store::AuditRow>>& logs);

// Parses "key=value" out of an audit row's detail ("; "-separated), "" when absent.
std::string DetailField(std::string_view detail, std::string_view key);

}  // namespace sluice::sched
