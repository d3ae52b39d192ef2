#include "server/admin/audit_json.h"

#include <string>

#include "common/base/time_format.h"

namespace sluice::server {

nlohmann::json AuditEventJson(const store::AuditRow& row) {
  return {{"seq", row.seq},
          {"time", FormatIsoUtc(row.wall_ms)},
          {"wall_ms", row.wall_ms},
          {"event", row.event},
          {"scope", row.scope},
          {"client_id", row.client_id},
          {"lease_id", row.lease_id},
          {"version", row.version},
          {"detail", row.detail},
          {"running", row.running},
          {"limit", row.limit_value}};
}

Result<std::vector<store::AuditRow>> AuditRowsFromJson(const nlohmann::json& events) {
  std::vector<store::AuditRow> rows;
  try {
    for (const auto& event : events) {
      rows.push_back({.seq = event.at("seq").get<int64_t>(),
                      .wall_ms = event.at("wall_ms").get<int64_t>(),
                      .mono_ms = 0,
                      .event = event.at("event").get<std::string>(),
                      .scope = event.at("scope").get<std::string>(),
                      .client_id = event.at("client_id").get<std::string>(),
                      .lease_id = event.at("lease_id").get<uint64_t>(),
                      .version = event.at("version").get<std::string>(),
                      .detail = event.at("detail").get<std::string>(),
                      .running = event.at("running").get<int>(),
                      .limit_value = event.at("limit").get<int>()});
    }
  } catch (const nlohmann::json::exception& e) {
    return Fail(Errc::kCorrupt, std::string("audit events: ") + e.what());
  }
  return rows;
}

}  // namespace sluice::server
