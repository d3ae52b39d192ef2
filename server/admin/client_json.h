#pragma once
// The admin JSON of clients (docs/admin.md, CLIENT and COUNTS): one builder for `clients`,
// `clients-page`, `client-detail` and `fleet`.

#include <nlohmann/json.hpp>
#include <vector>

#include "server/store/client_query.h"
#include "server/store/client_repo.h"

namespace sluice::server {

// CLIENT: id, kind, mode, version, platform, online, state, first_seen, last_seen, peer_address,
// jump_group, tag and stats (cpu_load, disk_used_pct, uptime_s, console_user).
nlohmann::json ClientJson(const store::ClientRow& row);

// COUNTS of every client: total, online, lost, by_kind, by_version, by_state.
nlohmann::json ClientCounts(const std::vector<store::ClientRow>& rows);
// The same COUNTS from the store's per kind and version counts (no rows loaded).
nlohmann::json ClientCounts(const std::vector<store::KindVersionCount>& groups);

}  // namespace sluice::server
