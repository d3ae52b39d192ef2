#include "server/pair/pair_json.h"

namespace sluice::pair {

using json = nlohmann::json;

bool IsSha256Hex(std::string_view text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

json SyncJson(const SyncRecord& sync) {
  return {{"finished_ms", sync.finished_ms},
          {"duration_ms", sync.duration_ms},
          {"bytes", sync.bytes},
          {"packages", sync.packages},
          {"site_version", sync.site_version}};
}

json AuditRowJson(const store::AuditRow& r) {
  return {{"seq", r.seq},
          {"wall_ms", r.wall_ms},
          {"mono_ms", r.mono_ms},
          {"event", r.event},
          {"scope", r.scope},
          {"client_id", r.client_id},
          {"lease_id", r.lease_id},
          {"version", r.version},
          {"detail", r.detail},
          {"running", r.running},
          {"limit_value", r.limit_value}};
}

store::AuditRow AuditRowFromJson(const json& j) {
  return {.seq = j.at("seq").get<int64_t>(),
          .wall_ms = j.at("wall_ms").get<int64_t>(),
          .mono_ms = j.at("mono_ms").get<int64_t>(),
          .event = j.at("event").get<std::string>(),
          .scope = j.at("scope").get<std::string>(),
          .client_id = j.at("client_id").get<std::string>(),
          .lease_id = j.at("lease_id").get<uint64_t>(),
          .version = j.at("version").get<std::string>(),
          .detail = j.at("detail").get<std::string>(),
          .running = j.at("running").get<int>(),
          .limit_value = j.at("limit_value").get<int>()};
}

json ClientRowJson(const store::ClientRow& c) {
  return {{"id", c.id},
          {"kind", c.kind},
          {"mode", c.mode},
          {"secret_hash", c.secret_hash},
          {"version", c.version},
          {"platform", c.platform},
          {"first_seen_ms", c.first_seen_ms},
          {"last_seen_ms", c.last_seen_ms},
          {"state", c.state},
          {"peer_address", c.peer_address},
          {"cpu_load", c.cpu_load},
          {"disk_used_pct", c.disk_used_pct},
          {"uptime_s", c.uptime_s},
          {"console_user", c.console_user}};
}

store::ClientRow ClientRowFromJson(const json& j) {
  return {.id = j.at("id").get<std::string>(),
          .kind = j.at("kind").get<std::string>(),
          .mode = j.at("mode").get<std::string>(),
          .secret_hash = j.at("secret_hash").get<std::string>(),
          .version = j.at("version").get<std::string>(),
          .platform = j.at("platform").get<std::string>(),
          .first_seen_ms = j.at("first_seen_ms").get<int64_t>(),
          .last_seen_ms = j.at("last_seen_ms").get<int64_t>(),
          .online = false,
          .state = j.at("state").get<std::string>(),
          .peer_address = j.at("peer_address").get<std::string>(),
          .cpu_load = j.at("cpu_load").get<double>(),
          .disk_used_pct = j.at("disk_used_pct").get<double>(),
          .uptime_s = j.at("uptime_s").get<int64_t>(),
          .console_user = j.at("console_user").get<std::string>()};
}

}  // namespace sluice::pair
