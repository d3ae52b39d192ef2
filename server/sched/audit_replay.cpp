#include "server/sched/audit_replay.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <string_view>

namespace sluice::sched {
namespace {

namespace ev = store::audit_event;

bool EndsLease(std::string_view event) {
  return event == ev::kFinish || event == ev::kFail || event == ev::kRollback ||
         event == ev::kExpire;
}

// Whether the row's `running` must equal the replayed count of its scope.
bool RecordsRunning(std::string_view event) {
  return event == ev::kGrant || event == ev::kProgress || event == ev::kLimitChange ||
         EndsLease(event);
}

class Replayer {
 public:
  void Apply(const store::AuditRow& row);
  ReplayResult Take() { return std::move(result_); }

 private:
  struct LiveLease {
    std::string scope;
    std::string client_id;
  };

  void Problem(const store::AuditRow& row, const std::string& what) {
    result_.problems.push_back("seq " + std::to_string(row.seq) + " (" + row.event + "): " + what);
  }
  // Checks the row's limit_value against the tracked limit (learning it if unknown).
  void CheckLimit(const store::AuditRow& row, const std::string& scope);
  void Grant(const store::AuditRow& row);
  // Returns the scope of the lease the row ends ("" when it names no known lease).
  std::string End(const store::AuditRow& row);

  ReplayResult result_;
  std::map<uint64_t, LiveLease> live_;
  std::set<uint64_t> ended_;
  std::map<std::string, uint64_t> lease_by_client_;
  std::map<std::string, int> running_;
  std::map<std::string, int> limit_;
  int64_t fence_until_ms_ = 0;  // the last takeover's: no grant before it
  // Leases a new primary restored from its last sync that the old primary ended after it: the
  // new primary still counts them (conservatively) until it ends them itself.
  std::map<uint64_t, std::string> ghosts_;
  std::map<uint64_t, std::string> ended_scope_;
  std::map<std::string, int> ghost_running_;
};

void Replayer::CheckLimit(const store::AuditRow& row, const std::string& scope) {
  if (scope.empty() || row.limit_value <= 0) return;
  auto [it, inserted] = limit_.try_emplace(scope, row.limit_value);
  if (!inserted && it->second != row.limit_value) {
    Problem(row, "records limit " + std::to_string(row.limit_value) + " for " + scope +
                     ", the limit in force is " + std::to_string(it->second));
  }
}

void Replayer::Grant(const store::AuditRow& row) {
  const std::string id = std::to_string(row.lease_id);
  if (row.scope.empty()) {
    Problem(row, "lease " + id + " granted without a scope");
    return;
  }
  if (live_.contains(row.lease_id)) {
    Problem(row, "lease " + id + " granted again while running");
    return;
  }
  if (ended_.erase(row.lease_id) > 0) Problem(row, "lease " + id + " granted again after it ended");
  if (auto held = lease_by_client_.find(row.client_id);
      held != lease_by_client_.end() && live_.contains(held->second)) {
    Problem(row,
            "client " + row.client_id + " already holds lease " + std::to_string(held->second));
  }
  live_[row.lease_id] = LiveLease{row.scope, row.client_id};
  lease_by_client_[row.client_id] = row.lease_id;
  const int running = ++running_[row.scope];
  int& max_running = result_.max_running[row.scope];
  max_running = std::max(max_running, running);

  auto tracked = limit_.find(row.scope);
  int limit = row.limit_value;
  if (tracked != limit_.end()) {
    CheckLimit(row, row.scope);
    limit = row.limit_value > 0 ? std::min(tracked->second, row.limit_value) : tracked->second;
  } else if (row.limit_value > 0) {
    limit_[row.scope] = row.limit_value;
  } else {
    Problem(row, "no limit known for " + row.scope);
    return;
  }
  if (running > limit) ++result_.violations[row.scope];
}

std::string Replayer::End(const store::AuditRow& row) {
  const std::string id = std::to_string(row.lease_id);
  if (auto ghost = ghosts_.find(row.lease_id); ghost != ghosts_.end()) {
    std::string scope = ghost->second;
    --ghost_running_[scope];
    ghosts_.erase(ghost);
    return scope;
  }
  auto it = live_.find(row.lease_id);
  if (it == live_.end()) {
    // Ending a lease twice (finish after expiry, repeated finish) is expected and harmless.
    if (!ended_.contains(row.lease_id)) Problem(row, "lease " + id + " was never granted");
    return row.scope;
  }
  std::string scope = it->second.scope;
  if (!row.scope.empty() && row.scope != scope) {
    Problem(row, "names scope " + row.scope + " for lease " + id + " of scope " + scope);
  }
  if (auto held = lease_by_client_.find(it->second.client_id);
      held != lease_by_client_.end() && held->second == row.lease_id) {
    lease_by_client_.erase(held);
  }
  ended_scope_[row.lease_id] = scope;
  live_.erase(it);
  ended_.insert(row.lease_id);
  --running_[scope];
  return scope;
}

void Replayer::Apply(const store::AuditRow& row) {
  std::string scope = row.scope;
  if (row.event == ev::kGrant) {
    if (row.wall_ms < fence_until_ms_) {
      Problem(row,
              "granted during a failover fence (before " + std::to_string(fence_until_ms_) + ")");
      ++result_.violations[row.scope];
    }
    Grant(row);
  } else if (row.event == ev::kPairTakeover) {
    std::set<uint64_t> restored;
    const std::string list = DetailField(row.detail, "restored_leases");
    for (size_t at = 0; at < list.size();) {
      const size_t comma = std::min(list.find(',', at), list.size());
      restored.insert(std::stoull(list.substr(at, comma - at)));
      at = comma + 1;
    }
    for (uint64_t id : restored) {
      if (live_.contains(id) || !ended_.contains(id)) continue;
      // Its scope is that of its grant: found among the ended leases' grants below.
      if (auto scope = ended_scope_.find(id); scope != ended_scope_.end()) {
        ghosts_[id] = scope->second;
        ++ghost_running_[scope->second];
      }
    }
    const std::string fence = DetailField(row.detail, "fence_until_ms");
    fence_until_ms_ = fence.empty() ? 0 : std::stoll(fence);
    for (auto it = live_.begin(); it != live_.end();) {
      if (restored.contains(it->first)) {
        ++it;
        continue;
      }
      --running_[it->second.scope];
      lease_by_client_.erase(it->second.client_id);
      ended_.insert(it->first);
      it = live_.erase(it);
    }
  } else if (EndsLease(row.event)) {
    scope = End(row);
    CheckLimit(row, scope);
  } else if (row.event == ev::kProgress) {
    if (!live_.contains(row.lease_id)) {
      Problem(row, "progress of lease " + std::to_string(row.lease_id) + ", which is not running");
    }
    CheckLimit(row, scope);
  } else if (row.event == ev::kLimitChange) {
    if (scope.empty() || row.limit_value < 1) {
      Problem(row, "limit change without a scope or a limit");
    } else {
      limit_[scope] = row.limit_value;  // lowering it below running is allowed (invariant 3)
    }
  } else if (!store::IsAuditEvent(row.event)) {
    Problem(row, "unknown event");
    return;
  }
  // server_start, bandwidth/connection-rate/policy changes: nothing to track. Leases are not
  // cleared by a restart: the server restores them.
  if (RecordsRunning(row.event) && !scope.empty()) {
    const int replayed = running_[scope] + ghost_running_[scope];
    if (row.running != replayed) {
      Problem(row, "records " + std::to_string(row.running) + " running in " + scope +
                       ", the replay has " + std::to_string(replayed));
    }
  }
}

}  // namespace

std::string DetailField(std::string_view detail, std::string_view key) {
  const std::string needle = std::string(key) + "=";
  for (size_t at = 0; at < detail.size();) {
    const size_t end = std::min(detail.find("; ", at), detail.size());
    const std::string_view part = detail.substr(at, end - at);
    if (part.starts_with(needle)) return std::string(part.substr(needle.size()));
    at = end + 2;
  }
  return "";
}

ReplayResult ReplayAuditLogs(const std::vector<std::vector<store::AuditRow>>& logs) {
  std::map<int64_t, store::AuditRow> rows;
  std::vector<std::string> clashes;
  for (const auto& log : logs) {
    for (const store::AuditRow& row : log) {
      auto [it, inserted] = rows.try_emplace(row.seq, row);
      if (!inserted && !(it->second == row)) {
        clashes.push_back("seq " + std::to_string(row.seq) +
                          " names different rows on two servers");
      }
    }
  }
  std::vector<store::AuditRow> merged;
  merged.reserve(rows.size());
  for (auto& [seq, row] : rows) merged.push_back(std::move(row));
  ReplayResult result = ReplayAudit(merged);
  result.problems.insert(result.problems.end(), clashes.begin(), clashes.end());
  return result;
}

ReplayResult ReplayAudit(const std::vector<store::AuditRow>& rows) {
  std::vector<const store::AuditRow*> ordered;
  ordered.reserve(rows.size());
  for (const auto& row : rows) ordered.push_back(&row);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto* a, const auto* b) { return a->seq < b->seq; });
  Replayer replayer;
  std::vector<std::string> repeated;
  for (size_t i = 0; i < ordered.size(); ++i) {
    if (i > 0 && ordered[i]->seq == ordered[i - 1]->seq) {
      repeated.push_back("seq " + std::to_string(ordered[i]->seq) + " appears more than once");
    }
    replayer.Apply(*ordered[i]);
  }
  ReplayResult result = replayer.Take();
  result.problems.insert(result.problems.end(), repeated.begin(), repeated.end());
  return result;
}

}  // namespace sluice::sched
