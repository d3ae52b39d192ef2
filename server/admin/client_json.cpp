#include "server/admin/client_json.h"

#include <string>

#include "common/base/time_format.h"

namespace sluice::server {
namespace {

using nlohmann::json;

json EmptyCounts() {
  return {{"total", 0},
          {"online", 0},
          {"lost", 0},
          {"by_kind", json::object()},
          {"by_version", json::object()},
          {"by_state", json::object()}};
}

void AddCount(json& counts, const char* field, const std::string& key, int64_t n) {
  if (n == 0) return;
  json& bucket = counts[field];
  bucket[key] = bucket.value(key, int64_t{0}) + n;
}

}  // namespace

json ClientJson(const store::ClientRow& row) {
  return {
      {"id", row.id},
      {"kind", row.kind},
      {"mode", row.mode},
      {"version", row.version},
      {"platform", row.platform},
      {"online", row.online},
      {"state", row.state},
      {"first_seen", FormatIsoUtc(row.first_seen_ms)},
      {"last_seen", FormatIsoUtc(row.last_seen_ms)},
      {"last_seen_ms", row.last_seen_ms},
      {"peer_address", row.peer_address},
      {"jump_group", row.jump_group},
      {"tag", row.tag},
      {"stats",
       {{"cpu_load", row.cpu_load},
        {"disk_used_pct", row.disk_used_pct},
        {"uptime_s", row.uptime_s},
        {"console_user", row.console_user}}},
  };
}

json ClientCounts(const std::vector<store::ClientRow>& rows) {
  json counts = EmptyCounts();
  counts["total"] = rows.size();
  int64_t online = 0, lost = 0;
  for (const auto& row : rows) {
    if (row.online) ++online;
    if (row.state == "lost") ++lost;
    AddCount(counts, "by_kind", row.kind, 1);
    AddCount(counts, "by_version", row.version, 1);
    AddCount(counts, "by_state", row.state, 1);
  }
  counts["online"] = online;
  counts["lost"] = lost;
  return counts;
}

json ClientCounts(const std::vector<store::KindVersionCount>& groups) {
  json counts = EmptyCounts();
  int64_t total = 0, online = 0, lost = 0;
  for (const auto& group : groups) {
    const int64_t n = group.online + group.offline + group.lost;
    total += n;
    online += group.online;
    lost += group.lost;
    AddCount(counts, "by_kind", group.kind, n);
    AddCount(counts, "by_version", group.version, n);
    AddCount(counts, "by_state", "active", n - group.lost);
    AddCount(counts, "by_state", "lost", group.lost);
  }
  counts["total"] = total;
  counts["online"] = online;
  counts["lost"] = lost;
  return counts;
}

}  // namespace sluice::server
