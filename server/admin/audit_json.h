#pragma once
// The audit log's admin JSON (docs/admin.md, EVENT): written by the `audit` command, read back
// by whoever replays it (sluice-load, the integration tests). One definition of the shape.

#include <nlohmann/json.hpp>
#include <vector>

#include "common/base/error.h"
#include "server/store/audit_repo.h"

namespace sluice::server {

nlohmann::json AuditEventJson(const store::AuditRow& row);

// The rows of an `audit` result's "events" array (mono_ms is not in the JSON: 0).
// Errors: kCorrupt naming the missing or mistyped field.
[[nodiscard]] Result<std::vector<store::AuditRow>> AuditRowsFromJson(const nlohmann::json& events);

}  // namespace sluice::server
