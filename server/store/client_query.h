#pragma once
// The dashboard's fleet queries: one page of clients filtered, searched and sorted in SQLite,
// and the fleet's counts by GROUP BY, so no caller loads 100,000 rows to show 50. Plain
// functions for store jobs. Indexes (schema v7): clients_last_seen serves the default order,
// clients_kind_version the kind/version filters, installer_enrollments_group/_tag the jump
// group and tag filters; a text search `q` scans (a LIKE '%q%' cannot use an index).

#include <cstdint>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/db/database.h"
#include "server/store/client_repo.h"

namespace sluice::store {

// Empty members do not filter.
struct ClientFilter {
  // Case-insensitive substring of the id, console user, platform, jump group or tag (ASCII
  // case folding; '%', '_' and '\' match themselves).
  std::string q{};
  std::string kind{}, version{}, mode{};
  // "online", "offline" (not online, not lost) or "lost" (not online, labelled lost): every
  // client is in exactly one.
  std::string state{};
  std::string jump_group{}, tag{};
};

enum class ClientSort {
  kLastSeen,  // newest sighting first, then id
  kId,        // id ascending
  kVersion,   // version ascending, numerically by dotted part ("9.0" before "10.0"), then id
};

struct ClientPage {
  int64_t total = 0;  // clients matching the filter
  std::vector<ClientRow> clients{};
};

// Rows [offset, offset + limit) of the matching clients in `sort` order, with jump group and
// tag. Errors: kInvalidArgument for an unknown state, offset < 0 or limit < 1; kDatabase.
[[nodiscard]] Result<ClientPage> QueryClients(db::Database& db, const ClientFilter& filter,
                                              ClientSort sort, int64_t offset, int64_t limit);

// Clients of one kind and version, by state.
struct KindVersionCount {
  std::string kind{}, version{};
  int64_t online = 0, offline = 0, lost = 0;  // offline: neither online nor lost
  bool operator==(const KindVersionCount&) const = default;
};

// Every (kind, version) with clients, ordered by kind, then version numerically. Errors:
// kDatabase.
[[nodiscard]] Result<std::vector<KindVersionCount>> CountClientsByKindVersion(db::Database& db);

// Clients of one kind, version and mode, split by whether they were seen (online, or checked in)
// since `since_ms`: what the rollout summary and its forecast need, without reading every row.
struct RolloutGroup {
  std::string kind{}, version{}, mode{};
  bool seen = false;
  int64_t count = 0;
  bool operator==(const RolloutGroup&) const = default;
};

// Every group with clients. Errors: kDatabase.
[[nodiscard]] Result<std::vector<RolloutGroup>> CountClientsForRollout(db::Database& db,
                                                                       int64_t since_ms);

// Orders dotted versions numerically part by part ("1.9" < "1.10" < "2"); parts that are not
// numbers compare as text. Exposed for tests; the queries above use it as an SQLite collation.
int CompareVersionText(std::string_view a, std::string_view b);

}  // namespace sluice::store
