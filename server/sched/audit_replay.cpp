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
  live_.erase(it);
  ended_.insert(row.lease_id);
  --running_[scope];
  return scope;
}

void Replayer::Apply(const store::AuditRow& row) {
  std::string scope = row.scope;
  if (row.event == ev::kGrant) {
    Grant(row);
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
    const int replayed = running_[scope];
    if (row.running != replayed) {
      Problem(row, "records " + std::to_string(row.running) + " running in " + scope +
                       ", the replay has " + std::to_string(replayed));
    }
  }
}

}  // namespace

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
