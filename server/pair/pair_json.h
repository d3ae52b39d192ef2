#pragma once
// What crosses a pair connection as JSON besides requests' own small bodies (docs/protocol.md
// section 10): a sync's record and the rows a backup merges into its primary.

#include <nlohmann/json.hpp>
#include <string_view>

#include "server/pair/pair_state.h"
#include "server/store/audit_repo.h"
#include "server/store/client_repo.h"

namespace sluice::pair {

// Lower-case hex SHA-256: how packages and snapshots are named on the wire (and on disk).
bool IsSha256Hex(std::string_view text);

nlohmann::json SyncJson(const SyncRecord& sync);

// Every column, mono_ms included, so a merged row is the same row on both servers.
nlohmann::json AuditRowJson(const store::AuditRow& row);
// Throws nlohmann::json::exception for a missing or mistyped field.
store::AuditRow AuditRowFromJson(const nlohmann::json& json);

// Every column but `online` (a merged client is offline here).
nlohmann::json ClientRowJson(const store::ClientRow& row);
// Throws nlohmann::json::exception for a missing or mistyped field.
store::ClientRow ClientRowFromJson(const nlohmann::json& json);

}  // namespace sluice::pair
