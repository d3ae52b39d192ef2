#include "server/store/lease_repo.h"

#include <optional>
#include <string>

#include "common/db/transaction.h"

namespace sluice::store {
namespace {

// SQLite integers are signed 64-bit; ids and byte counts never come near 2^63.
int64_t Signed(uint64_t value) { return static_cast<int64_t>(value); }

std::string LeaseContext(std::string_view what, uint64_t id) {
  return std::string(what) + " lease " + std::to_string(id);
}

}  // namespace

Status SaveLease(db::Database& db, const sched::Lease& lease) {
  if (lease.id == 0 || lease.client_id.empty()) {
    return Fail(Errc::kInvalidArgument, "saving a lease: id and client id are required");
  }
  const std::string context = LeaseContext("saving", lease.id);
  auto savepoint = db::Savepoint::Begin(db);
  if (!savepoint) return Context(savepoint.error(), context);
  // OR REPLACE also drops a stale row holding the same client_id (UNIQUE) under another id.
  auto saved = db.Run(
      "INSERT OR REPLACE INTO leases "
      "(id, client_id, scope, version, granted_ms, expires_ms, bytes_done) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      Signed(lease.id), lease.client_id, lease.scope, lease.target_version, lease.granted_ms,
      lease.expires_ms, Signed(lease.bytes_done));
  if (!saved) return Context(saved.error(), context);
  auto dequeued = db.Run("DELETE FROM waiters WHERE client_id = ?1", lease.client_id);
  if (!dequeued) return Context(dequeued.error(), context);
  if (auto released = savepoint->Release(); !released) return Context(released.error(), context);
  return {};
}

Status DeleteLease(db::Database& db, uint64_t id) {
  auto deleted = db.Run("DELETE FROM leases WHERE id = ?1", Signed(id));
  if (!deleted) return Context(deleted.error(), LeaseContext("deleting", id));
  return {};
}

Status UpdateLeaseProgress(db::Database& db, uint64_t id, uint64_t bytes_done, int64_t expires_ms) {
  auto updated = db.Run("UPDATE leases SET bytes_done = ?2, expires_ms = ?3 WHERE id = ?1",
                        Signed(id), Signed(bytes_done), expires_ms);
  if (!updated) return Context(updated.error(), LeaseContext("recording progress of", id));
  if (db.Changes() == 0) return Fail(Errc::kNotFound, LeaseContext("no", id));
  return {};
}

Result<std::vector<sched::Lease>> LoadLeases(db::Database& db) {
  std::vector<sched::Lease> leases;
  auto read = db.Query(
      "SELECT id, client_id, scope, version, granted_ms, expires_ms, bytes_done "
      "FROM leases ORDER BY id",
      [&leases](const db::Statement& row) {
        leases.push_back(sched::Lease{.id = static_cast<uint64_t>(row.Int64(0)),
                                      .client_id = row.Text(1),
                                      .scope = row.Text(2),
                                      .target_version = row.Text(3),
                                      .granted_ms = row.Int64(4),
                                      .expires_ms = row.Int64(5),
                                      .bytes_done = static_cast<uint64_t>(row.Int64(6))});
      });
  if (!read) return Context(read.error(), "loading leases");
  return leases;
}

Status SaveWaiter(db::Database& db, std::string_view client_id, std::string_view scope,
                  int64_t first_request_ms) {
  const std::string context = "saving waiter " + std::string(client_id);
  if (client_id.empty()) return Fail(Errc::kInvalidArgument, "saving a waiter: empty client id");
  std::optional<int64_t> lease_id;
  auto held = db.Query(
      "SELECT id FROM leases WHERE client_id = ?1",
      [&lease_id](const db::Statement& row) { lease_id = row.Int64(0); }, client_id);
  if (!held) return Context(held.error(), context);
  if (lease_id) {
    return Fail(Errc::kAlreadyExists, context + ": it holds lease " + std::to_string(*lease_id));
  }
  // An upsert (not OR REPLACE) keeps the rowid, the tie-break among equal first_request_ms.
  auto saved = db.Run(
      "INSERT INTO waiters (client_id, scope, first_request_ms) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (client_id) DO UPDATE SET scope = excluded.scope, "
      "first_request_ms = excluded.first_request_ms",
      client_id, scope, first_request_ms);
  if (!saved) return Context(saved.error(), context);
  return {};
}

Status DeleteWaiter(db::Database& db, std::string_view client_id) {
  auto deleted = db.Run("DELETE FROM waiters WHERE client_id = ?1", client_id);
  if (!deleted) return Context(deleted.error(), "deleting waiter " + std::string(client_id));
  return {};
}

Result<std::vector<sched::Waiter>> LoadWaiters(db::Database& db) {
  std::vector<sched::Waiter> waiters;
  auto read = db.Query(
      "SELECT client_id, scope, first_request_ms FROM waiters "
      "ORDER BY first_request_ms, rowid",
      [&waiters](const db::Statement& row) {
        waiters.push_back(sched::Waiter{.client_id = row.Text(0),
                                        .scope = row.Text(1),
                                        .first_request_ms = row.Int64(2),
                                        .present = false});
      });
  if (!read) return Context(read.error(), "loading waiters");
  return waiters;
}

Result<uint64_t> NextLeaseId(db::Database& db) {
  int64_t largest = 0;
  auto read = db.Query(
      "SELECT max((SELECT coalesce(max(id), 0) FROM leases), "
      "(SELECT coalesce(max(lease_id), 0) FROM audit))",
      [&largest](const db::Statement& row) { largest = row.Int64(0); });
  if (!read) return Context(read.error(), "reading the next lease id");
  return static_cast<uint64_t>(largest < 0 ? 0 : largest) + 1;
}

}  // namespace sluice::store
