#pragma once
// The throttle's persisted state: running leases and the wait queue (tables `leases` and
// `waiters`, schema v3). The server writes here what the scheduler reports and, after a restart
// or a failover, feeds LoadLeases / LoadWaiters / NextLeaseId back through
// sched::Scheduler::RestoreLease / RestoreWaiter / SetNextLeaseId.
//
// Plain functions over a connection; call them from a store job (or any thread that owns the
// db::Database). None of them opens a transaction of its own except where noted (they use a
// savepoint, so they work inside the store's batch transaction).

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/base/error.h"
#include "common/db/database.h"
#include "server/sched/scheduler.h"

namespace sluice::store {

// Creates or replaces the lease with `lease.id`. A client holds at most one lease, so a stale
// row of the same client under another id is replaced too, and the client's waiter row (if
// any) is deleted: the grant takes it out of the queue. Atomic (savepoint).
// Errors: kInvalidArgument for id 0 or an empty client id; kDatabase.
[[nodiscard]] Status SaveLease(db::Database& db, const sched::Lease& lease);

// Deletes lease `id`. Idempotent: deleting a lease that is not there is not an error (a lease
// may end twice, e.g. expired, then reported finished). Errors: kDatabase.
[[nodiscard]] Status DeleteLease(db::Database& db, uint64_t id);

// Records download progress of lease `id`. Errors: kNotFound if there is no such lease;
// kDatabase.
[[nodiscard]] Status UpdateLeaseProgress(db::Database& db, uint64_t id, uint64_t bytes_done,
                                         int64_t expires_ms);

// Every lease, ordered by id (the order to restore them in). Errors: kDatabase.
[[nodiscard]] Result<std::vector<sched::Lease>> LoadLeases(db::Database& db);

// Creates or updates the waiter `client_id`. Re-saving a waiter keeps its tie-break position
// among waiters with the same first_request_ms. Errors: kInvalidArgument for an empty client
// id; kAlreadyExists if the client holds a lease (a lease holder never waits: delete the lease
// first); kDatabase.
[[nodiscard]] Status SaveWaiter(db::Database& db, std::string_view client_id,
                                std::string_view scope, int64_t first_request_ms);

// Removes the waiter `client_id`. Idempotent. Errors: kDatabase.
[[nodiscard]] Status DeleteWaiter(db::Database& db, std::string_view client_id);

// Every waiter (present = false), ordered by first_request_ms, then by when the row was first
// saved: restoring them in this order reproduces the queue. Errors: kDatabase.
[[nodiscard]] Result<std::vector<sched::Waiter>> LoadWaiters(db::Database& db);

// The lowest lease id never used: 1 + the largest id in `leases` or in the audit log's
// lease_id column (leases that ended are gone from `leases` but not from the log), at least 1.
// Pass it to Scheduler::SetNextLeaseId so ids never repeat across restarts. Scans the audit
// log: meant for startup. Errors: kDatabase.
[[nodiscard]] Result<uint64_t> NextLeaseId(db::Database& db);

}  // namespace sluice::store
