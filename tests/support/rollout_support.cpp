#include "tests/support/rollout_support.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "client/stats/system_stats.h"
#include "server/admin/audit_json.h"

namespace sluice::testing {

std::string MakePayload(const std::string& dir, const std::string& name, int self_test_exit,
                        double check_seconds, size_t size) {
  const std::string path = dir + "/" + name;
  std::string script = "#!/bin/sh\nif [ \"$1\" = --self-test ]; then sleep " +
                       std::to_string(check_seconds) + "; exit " + std::to_string(self_test_exit) +
                       "; fi\nexit 0\n";
  // The shell stops at `exit`; the padding only makes the download take time.
  if (script.size() < size) {
    std::string padding = "#";
    for (size_t i = 0; script.size() + padding.size() + 1 < size; ++i) {
      padding += static_cast<char>('a' + (i * 7919 % 26));
    }
    script += padding + "\n";
  }
  std::ofstream(path) << script;
  ::chmod(path.c_str(), 0755);
  return path;
}

void PublishPackage(ServerProcess& server, const std::string& kind, const std::string& version,
                    const std::string& payload) {
  auto response = server.Admin("package-add", {{"kind", kind},
                                               {"platform", client::PlatformName()},
                                               {"version", version},
                                               {"path", payload}});
  ASSERT_TRUE(response["ok"].get<bool>()) << response.dump();
}

std::vector<store::AuditRow> ReadAudit(ServerProcess& server) {
  auto response = server.Admin("audit");
  EXPECT_TRUE(response["ok"].get<bool>()) << response.dump();
  auto rows = server::AuditRowsFromJson(response["result"]["events"]);
  EXPECT_TRUE(rows.has_value()) << rows.error().ToString();
  return rows ? *rows : std::vector<store::AuditRow>{};
}

sched::ReplayResult ReplayServerAudit(ServerProcess& server) {
  return sched::ReplayAudit(ReadAudit(server));
}

int CountEvents(const std::vector<store::AuditRow>& rows, const std::string& event,
                const std::string& client_id) {
  int count = 0;
  for (const auto& row : rows) {
    if (row.event == event && (client_id.empty() || row.client_id == client_id)) ++count;
  }
  return count;
}

std::string InstalledVersion(const std::string& state_dir) {
  char target[4096];
  ssize_t n = ::readlink((state_dir + "/current").c_str(), target, sizeof(target) - 1);
  if (n <= 0) return "";
  std::string link(target, static_cast<size_t>(n));
  return link.substr(link.rfind('/') + 1);
}

}  // namespace sluice::testing
