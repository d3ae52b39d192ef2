#include "server/store/client_repo.h"

#include "common/db/transaction.h"

namespace sluice::store {
namespace {

constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;

std::string ClientContext(std::string_view what, std::string_view id) {
  return std::string(what) + " client " + std::string(id);
}

}  // namespace

ClientRow ReadClientRow(const db::Statement& row, bool with_enrollment) {
  ClientRow client;
  client.id = row.Text(0);
  client.kind = row.Text(1);
  client.mode = row.Text(2);
  client.secret_hash = row.Text(3);
  client.version = row.Text(4);
  client.platform = row.Text(5);
  client.first_seen_ms = row.Int64(6);
  client.last_seen_ms = row.Int64(7);
  client.online = row.Int64(8) != 0;
  client.state = row.Text(9);
  client.peer_address = row.Text(10);
  client.cpu_load = row.Double(11);
  client.disk_used_pct = row.Double(12);
  client.uptime_s = row.Int64(13);
  client.console_user = row.Text(14);
  if (with_enrollment) {
    client.jump_group = row.Text(15);
    client.tag = row.Text(16);
  }
  return client;
}

Status InsertClient(db::Database& db, const ClientRow& c) {
  auto inserted = db.Run(
      "INSERT INTO clients (" SLUICE_CLIENT_COLUMNS
      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
      c.id, c.kind, c.mode, c.secret_hash, c.version, c.platform, c.first_seen_ms, c.last_seen_ms,
      c.online, c.state, c.peer_address, c.cpu_load, c.disk_used_pct, c.uptime_s, c.console_user);
  if (!inserted && inserted.error().code() == Errc::kAlreadyExists) {
    return Fail(Errc::kAlreadyExists, "client " + c.id + " already exists");
  }
  if (!inserted) return Context(inserted.error(), ClientContext("inserting", c.id));
  return {};
}

Result<std::vector<ClientRow>> ListClientsSeenSince(db::Database& db, int64_t since_ms,
                                                    std::string_view after_id, int limit) {
  std::vector<ClientRow> rows;
  auto read = db.Query(
      "SELECT " SLUICE_CLIENT_COLUMNS
      " FROM clients WHERE last_seen_ms >= ?1 AND id > ?2 ORDER BY id LIMIT ?3",
      [&rows](const db::Statement& row) { rows.push_back(ReadClientRow(row, false)); }, since_ms,
      after_id, limit);
  if (!read) return Context(read.error(), "listing clients seen since " + std::to_string(since_ms));
  return rows;
}

Status MergeClient(db::Database& db, const ClientRow& c) {
  auto merged = db.Run("INSERT INTO clients (" SLUICE_CLIENT_COLUMNS
                       ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10, ?11, ?12, ?13, ?14) "
                       "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, mode = excluded.mode, "
                       "secret_hash = excluded.secret_hash, version = excluded.version, "
                       "platform = excluded.platform, "
                       "first_seen_ms = min(clients.first_seen_ms, excluded.first_seen_ms), "
                       "last_seen_ms = excluded.last_seen_ms, state = excluded.state, "
                       "peer_address = excluded.peer_address, cpu_load = excluded.cpu_load, "
                       "disk_used_pct = excluded.disk_used_pct, uptime_s = excluded.uptime_s, "
                       "console_user = excluded.console_user "
                       "WHERE excluded.last_seen_ms > clients.last_seen_ms",
                       c.id, c.kind, c.mode, c.secret_hash, c.version, c.platform, c.first_seen_ms,
                       c.last_seen_ms, c.state, c.peer_address, c.cpu_load, c.disk_used_pct,
                       c.uptime_s, c.console_user);
  if (!merged) return Context(merged.error(), ClientContext("merging", c.id));
  return {};
}

Result<std::optional<ClientRow>> FindClient(db::Database& db, std::string_view id) {
  std::optional<ClientRow> found;
  auto read = db.Query(
      SLUICE_CLIENT_SELECT " WHERE clients.id = ?1",
      [&found](const db::Statement& row) { found = ReadClientRow(row, true); }, id);
  if (!read) return Context(read.error(), ClientContext("reading", id));
  return found;
}

Status RecordCheckIn(db::Database& db, const CheckInUpdate& u) {
  auto updated = db.Run(
      "UPDATE clients SET mode = ?2, version = ?3, platform = ?4, peer_address = ?5, "
      "cpu_load = ?6, disk_used_pct = ?7, uptime_s = ?8, console_user = ?9, online = ?10, "
      "last_seen_ms = ?11, state = 'active' WHERE id = ?1",
      u.id, u.mode, u.version, u.platform, u.peer_address, u.cpu_load, u.disk_used_pct, u.uptime_s,
      u.console_user, u.online, u.now_ms);
  if (!updated) return Context(updated.error(), ClientContext("recording check-in of", u.id));
  if (db.Changes() == 0) return Fail(Errc::kNotFound, "client " + u.id + " not found");
  return {};
}

Status SetOnline(db::Database& db, std::string_view id, bool online, int64_t now_ms) {
  auto updated =
      db.Run("UPDATE clients SET online = ?2, last_seen_ms = ?3 WHERE id = ?1", id, online, now_ms);
  if (!updated) return Context(updated.error(), ClientContext("updating", id));
  if (db.Changes() == 0) return Fail(Errc::kNotFound, ClientContext("no", id));
  return {};
}

Status SetVersion(db::Database& db, std::string_view id, std::string_view version) {
  auto updated = db.Run("UPDATE clients SET version = ?2 WHERE id = ?1", id, version);
  if (!updated) return Context(updated.error(), ClientContext("updating the version of", id));
  if (db.Changes() == 0) return Fail(Errc::kNotFound, ClientContext("no", id));
  return {};
}

Status MarkAllOffline(db::Database& db) {
  auto updated = db.Run("UPDATE clients SET online = 0 WHERE online <> 0");
  if (!updated) return Context(updated.error(), "marking all clients offline");
  return {};
}

Result<std::vector<ClientRow>> ListClients(db::Database& db) {
  std::vector<ClientRow> clients;
  auto read = db.Query(
      SLUICE_CLIENT_SELECT " ORDER BY clients.id",
      [&clients](const db::Statement& row) { clients.push_back(ReadClientRow(row, true)); });
  if (!read) return Context(read.error(), "listing clients");
  return clients;
}

Result<SweepResult> SweepStaleClients(db::Database& db, int64_t now_ms, int lost_after_days,
                                      int delete_after_days) {
  if (lost_after_days < 1 || delete_after_days < 0) {
    return Fail(Errc::kInvalidArgument,
                "sweep: lost_after_days must be >= 1 and "
                "delete_after_days >= 0");
  }
  auto savepoint = db::Savepoint::Begin(db);
  if (!savepoint) return Context(savepoint.error(), "sweeping clients");
  SweepResult result;
  if (delete_after_days > 0) {
    const int64_t cutoff = now_ms - delete_after_days * kDayMs;
    auto deleted = db.Run("DELETE FROM clients WHERE online = 0 AND last_seen_ms <= ?1", cutoff);
    if (!deleted) return Context(deleted.error(), "deleting stale clients");
    result.deleted = db.Changes();
  }
  const int64_t cutoff = now_ms - lost_after_days * kDayMs;
  auto marked = db.Run(
      "UPDATE clients SET state = 'lost' "
      "WHERE online = 0 AND state <> 'lost' AND last_seen_ms <= ?1",
      cutoff);
  if (!marked) return Context(marked.error(), "marking clients lost");
  result.marked_lost = db.Changes();
  if (auto released = savepoint->Release(); !released) {
    return Context(released.error(), "sweeping clients");
  }
  return result;
}

Result<int64_t> CountClients(db::Database& db) {
  int64_t count = 0;
  auto read = db.Query("SELECT COUNT(*) FROM clients",
                       [&count](const db::Statement& row) { count = row.Int64(0); });
  if (!read) return Context(read.error(), "counting clients");
  return count;
}

Result<std::vector<ClientCensusRow>> ClientCensus(db::Database& db) {
  std::vector<ClientCensusRow> rows;
  auto read = db.Query(
      "SELECT kind, version, CASE WHEN state = 'lost' THEN 'lost' WHEN online THEN 'online' "
      "ELSE 'offline' END AS st, COUNT(*) FROM clients GROUP BY kind, version, st "
      "ORDER BY kind, version, st",
      [&rows](const db::Statement& row) {
        rows.push_back({.kind = row.Text(0),
                        .version = row.Text(1),
                        .state = row.Text(2),
                        .count = row.Int64(3)});
      });
  if (!read) return Context(read.error(), "counting clients by kind, version and state");
  return rows;
}

}  // namespace sluice::store
