#pragma once
// Helpers for throttled-rollout tests: publishing packages, reading the audit log back, and
// inspecting a client's state dir.

#include <string>
#include <vector>

#include "server/sched/audit_replay.h"
#include "server/store/audit_repo.h"
#include "tests/support/server_process.h"

namespace sluice::testing {

// A package payload: a shell script whose `--self-test` sleeps `check_seconds` and exits
// `self_test_exit`, padded with a trailing comment to `size` bytes.
std::string MakePayload(const std::string& dir, const std::string& name, int self_test_exit,
                        double check_seconds, size_t size = 0);

// Publishes `payload` as `version` for `kind` (linux platform of this machine).
void PublishPackage(ServerProcess& server, const std::string& kind, const std::string& version,
                    const std::string& payload);

std::vector<store::AuditRow> ReadAudit(ServerProcess& server);
sched::ReplayResult ReplayServerAudit(ServerProcess& server);
int CountEvents(const std::vector<store::AuditRow>& rows, const std::string& event,
                const std::string& client_id = "");

// The version a client's state dir says it runs ("" when it never upgraded).
std::string InstalledVersion(const std::string& state_dir);

}  // namespace sluice::testing
