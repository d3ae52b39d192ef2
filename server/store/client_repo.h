#pragma once
// Endpoint clients: one row per enrolled client. Plain functions over a connection; call them
// from a store job (or any thread that owns the db::Database).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"
#include "common/db/database.h"

namespace sluice::store {

// Members all have initializers so designated initializers may omit any of them under
// -Wextra (GCC warns about omitted members that have none).
struct ClientRow {
  std::string id{}, kind{}, mode{}, secret_hash{}, version{}, platform{};
  int64_t first_seen_ms = 0, last_seen_ms = 0;
  bool online = false;
  std::string state = "active", peer_address{};  // state: "active" | "lost"
  double cpu_load = 0, disk_used_pct = 0;
  int64_t uptime_s = 0;
  std::string console_user{};
  // From the client's installer enrollment ("" without one). Read by ListClients, FindClient and
  // QueryClients (client_query.h); never written through ClientRow.
  std::string jump_group{}, tag{};
};

// Column order shared by the SELECTs and ReadClientRow. SLUICE_CLIENT_SELECT reads them with the
// enrollment's jump group and tag (FROM clients LEFT JOIN installer_enrollments).
#define SLUICE_CLIENT_COLUMNS                                                     \
  "id, kind, mode, secret_hash, version, platform, first_seen_ms, last_seen_ms, " \
  "online, state, peer_address, cpu_load, disk_used_pct, uptime_s, console_user"
#define SLUICE_CLIENT_SELECT                                                                    \
  "SELECT " SLUICE_CLIENT_COLUMNS                                                               \
  ", coalesce(enrollment.jump_group, ''), coalesce(enrollment.tag, '') FROM clients LEFT JOIN " \
  "installer_enrollments AS enrollment ON enrollment.client_id = clients.id"
// A row of SLUICE_CLIENT_COLUMNS, or (with_enrollment) of SLUICE_CLIENT_SELECT.
ClientRow ReadClientRow(const db::Statement& row, bool with_enrollment);

// Errors: kAlreadyExists if `row.id` is taken; kDatabase.
[[nodiscard]] Status InsertClient(db::Database& db, const ClientRow& row);

// The client `id`, or nullopt. Errors: kDatabase.
[[nodiscard]] Result<std::optional<ClientRow>> FindClient(db::Database& db, std::string_view id);

struct CheckInUpdate {
  std::string id{}, mode{}, version{}, platform{}, peer_address{};
  double cpu_load = 0, disk_used_pct = 0;
  int64_t uptime_s = 0;
  std::string console_user{};
  bool online = false;
  int64_t now_ms = 0;
};

// Records a check-in: mode, version, platform, address, stats and online flag; last_seen_ms =
// now_ms; state back to "active". Errors: kNotFound if the client is absent; kDatabase.
[[nodiscard]] Status RecordCheckIn(db::Database& db, const CheckInUpdate& update);

// Sets the online flag and last_seen_ms = now_ms. Errors: kNotFound; kDatabase.
[[nodiscard]] Status SetOnline(db::Database& db, std::string_view id, bool online, int64_t now_ms);

// Marks every client offline; run at server start, before any connection is accepted.
// Errors: kDatabase.
[[nodiscard]] Status MarkAllOffline(db::Database& db);

// The client now runs `version` (an upgrade it reported as applied). kNotFound for an unknown id.
[[nodiscard]] Status SetVersion(db::Database& db, std::string_view id, std::string_view version);

// Every client, ordered by id. Errors: kDatabase.
[[nodiscard]] Result<std::vector<ClientRow>> ListClients(db::Database& db);

// How many clients are enrolled (any state). Errors: kDatabase.
[[nodiscard]] Result<int64_t> CountClients(db::Database& db);

// How many clients there are of each kind, version and state, where the state is "lost" (the
// sweep labelled it), "online" or "offline" (the metrics' census; one grouped scan over the
// clients' (kind, version) index). Ordered by kind, version, state. Errors: kDatabase.
struct ClientCensusRow {
  std::string kind{}, version{}, state{};
  int64_t count = 0;
};
[[nodiscard]] Result<std::vector<ClientCensusRow>> ClientCensus(db::Database& db);

// A failover pair's merge (server/pair): the clients seen at or after `since_ms`, by id after
// `after_id`, at most `limit`.
[[nodiscard]] Result<std::vector<ClientRow>> ListClientsSeenSince(db::Database& db,
                                                                  int64_t since_ms,
                                                                  std::string_view after_id,
                                                                  int limit);
// Adds a client the other server saw, or updates one this server knows when the other saw it
// later (newest last_seen wins; first_seen keeps the earliest). Merged rows are offline.
[[nodiscard]] Status MergeClient(db::Database& db, const ClientRow& row);

struct SweepResult {
  int64_t marked_lost = 0;  // clients newly labelled "lost"
  int64_t deleted = 0;
};

// Offline clients whose last_seen_ms is at least lost_after_days whole days before now_ms are
// labelled "lost"; at least delete_after_days days before, deleted (0 = never delete).
// Online clients are never touched. Atomic (runs in a savepoint).
// Errors: kInvalidArgument for lost_after_days < 1 or delete_after_days < 0; kDatabase.
[[nodiscard]] Result<SweepResult> SweepStaleClients(db::Database& db, int64_t now_ms,
                                                    int lost_after_days, int delete_after_days);

}  // namespace sluice::store
