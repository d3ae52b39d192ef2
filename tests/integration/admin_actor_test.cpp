// Who made a change, with the real sluiced: every state-changing admin command sent on the admin
// socket leaves an audit row whose detail names the local user (by=local:USER), and the
// dashboard's queries answer on a live server.

#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/server_process.h"

namespace sluice::testing {
namespace {

using nlohmann::json;

std::string ActorTestUser() {
  const passwd* entry = ::getpwuid(::getuid());
  return entry != nullptr ? entry->pw_name : std::to_string(::getuid());
}

json ActorTestOk(ServerProcess& server, const std::string& cmd, const json& args = json::object()) {
  json response = server.Admin(cmd, args);
  EXPECT_EQ(response.value("ok", false), true) << cmd << ": " << response.dump();
  return response.value("result", json());
}

TEST(AdminActorTest, EveryAdminChangeIsAuditedWithTheLocalUser) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  ActorTestOk(server, "limits-set",
              {{"kind", "jump-client"},
               {"max_concurrent", 7},
               {"bandwidth_bytes_per_s", 1048576},
               {"connection_rate_per_s", 80},
               {"_actor", "web:someone-else"}});
  ActorTestOk(server, "limits-set",
              {{"kind", "jumpoint"}, {"max_concurrent", "auto"}, {"min", 2}, {"max", 9}});
  ActorTestOk(server, "policy-set", {{"kind", "jumpoint"}, {"mode", "disabled"}});
  ActorTestOk(server, "rollout-canary", {{"kind", "jump-client"}, {"canary", "5%"}});
  ActorTestOk(server, "settings-set", {{"key", "heartbeat_s"}, {"value", "60"}});
  ActorTestOk(server, "site-set-version", {{"version", "1.1.0"}});
  ActorTestOk(server, "admin-add", {{"name", "alice"}, {"password", "a long password"}});
  ActorTestOk(server, "admin-passwd", {{"name", "alice"}, {"password", "another long one"}});
  ActorTestOk(server, "admin-remove", {{"name", "alice"}});
  ActorTestOk(server, "backup-schedule", {{"every_hours", 0}, {"unprotected", true}});
  ActorTestOk(server, "backup-create", {{"unprotected", true}});
  for (int i = 0; i < 300 && ActorTestOk(server, "backup-status")["state"] == "running"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(ActorTestOk(server, "backup-status")["state"], "done");
  // The backup's row is written once the file is: wait for it.
  for (int i = 0; i < 100; ++i) {
    if (!ActorTestOk(server, "audit", {{"event", "backup"}})["events"].empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  const std::string by = "by=local:" + ActorTestUser();
  std::map<std::string, int> audited;
  json events = ActorTestOk(server, "audit")["events"];
  for (const json& event : events) {
    const std::string name = event["event"];
    if (name == "server_start" || name == "rollout_wave") continue;
    const std::string detail = event["detail"];
    EXPECT_TRUE(detail.ends_with("; " + by)) << name << ": " << detail;
    for (const char* secret : {"a long password", "another long one"}) {
      EXPECT_EQ(detail.find(secret), std::string::npos) << detail;
    }
    ++audited[name];
  }
  EXPECT_EQ(audited, (std::map<std::string, int>{{"limit_change", 2},
                                                 {"bandwidth_change", 1},
                                                 {"connection_rate_change", 1},
                                                 {"policy_change", 1},
                                                 {"gate_change", 1},
                                                 {"settings_change", 3},
                                                 {"backup", 1},
                                                 {"admin_add", 1},
                                                 {"admin_passwd", 1},
                                                 {"admin_remove", 1}}))
      << events.dump(1);

  // The audit filters and the fleet queries answer on the live server.
  json admin_rows = ActorTestOk(server, "audit", {{"event", "admin_add"}});
  ASSERT_EQ(admin_rows["events"].size(), 1u);
  EXPECT_EQ(admin_rows["events"][0]["detail"], "name=alice; " + by);
  EXPECT_EQ(ActorTestOk(server, "admins"), json({{"admins", json::array()}}));
  json fleet = ActorTestOk(server, "fleet");
  EXPECT_EQ(fleet["counts"]["total"], 0);
  EXPECT_EQ(ActorTestOk(server, "clients-page")["total"], 0);
  EXPECT_EQ(server.Admin("client-detail", {{"client_id", "c-1"}})["error"]["code"], "not_found");
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace sluice::testing
