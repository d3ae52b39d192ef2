// A client checks in to the real sluiced over TLS on loopback, and the server remembers it.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "client/state/state_dir.h"
#include "common/base/file_util.h"
#include "tests/support/agent_runner.h"
#include "tests/support/process.h"
#include "tests/support/server_process.h"
#include "tests/support/text_util.h"

namespace sluice::testing {
namespace {

using nlohmann::json;

json Clients(ServerProcess& server) {
  json response = server.Admin("clients");
  EXPECT_TRUE(response["ok"].get<bool>()) << response.dump();
  return response["result"];
}

json EditedConfig(const std::string& path, const std::string& field, const std::string& value) {
  json config = json::parse(*ReadFile(path));
  config[field] = value;
  return config;
}

class CheckinTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }
  ServerProcess server_;
  TempDir client_dir_;
};

TEST_F(CheckinTest, PassiveClientEnrollsOnceAndIsRemembered) {
  const std::string config = server_.WriteClientConfig("jump-client", "passive");
  const std::string state = client_dir_ / "state";
  ASSERT_TRUE(CheckInOnce(config, state)) << server_.log();

  struct stat st{};
  ASSERT_EQ(::stat((state + "/identity.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto identity = client::StateDir::Open(state)->LoadIdentity();
  ASSERT_TRUE(identity && identity->has_value());

  json listed = Clients(server_);
  ASSERT_EQ(listed["clients"].size(), 1u);
  const json& row = listed["clients"][0];
  EXPECT_EQ(row["id"], (*identity)->client_id);
  EXPECT_EQ(row["kind"], "jump-client");
  EXPECT_EQ(row["mode"], "passive");
  EXPECT_EQ(row["version"], "1.0.0");
  EXPECT_FALSE(row["online"].get<bool>());
  EXPECT_GT(row["stats"]["uptime_s"].get<int64_t>(), 0);
  EXPECT_GT(row["stats"]["disk_used_pct"].get<double>(), 0.0);

  // A second contact authenticates with the stored secret instead of enrolling again.
  ASSERT_TRUE(CheckInOnce(config, state));
  listed = Clients(server_);
  ASSERT_EQ(listed["clients"].size(), 1u);
  EXPECT_EQ(listed["clients"][0]["id"], (*identity)->client_id);
  EXPECT_EQ(listed["counts"]["by_kind"]["jump-client"], 1);
}

TEST_F(CheckinTest, ClientRefusesServerWhoseKeyDoesNotMatchThePin) {
  const std::string config_path = server_.WriteClientConfig("jumpoint", "passive");
  json config = EditedConfig(config_path, "pin", "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  const std::string wrong = client_dir_ / "wrong-pin.json";
  std::ofstream(wrong) << config.dump();
  Status result = CheckInOnce(wrong, client_dir_ / "state");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::kPinMismatch) << result.error().ToString();
  EXPECT_EQ(Clients(server_)["clients"].size(), 0u);
}

TEST_F(CheckinTest, WrongEnrollmentKeyIsRefused) {
  json config = EditedConfig(server_.WriteClientConfig("jump-client", "active"), "enrollment_key",
                             std::string(64, '0'));
  const std::string path = client_dir_ / "wrong-key.json";
  std::ofstream(path) << config.dump();
  Status result = CheckInOnce(path, client_dir_ / "state");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("enrollment_refused"), std::string::npos)
      << result.error().ToString();
  EXPECT_EQ(Clients(server_)["clients"].size(), 0u);
}

TEST_F(CheckinTest, WrongClientSecretIsRefused) {
  const std::string config = server_.WriteClientConfig("jump-client", "passive");
  const std::string state = client_dir_ / "state";
  ASSERT_TRUE(CheckInOnce(config, state));
  auto dir = client::StateDir::Open(state);
  auto identity = dir->LoadIdentity();
  client::Identity forged{(*identity)->client_id, std::string(64, 'f')};
  ASSERT_TRUE(dir->SaveIdentity(forged));
  Status result = CheckInOnce(config, state);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::kAuth) << result.error().ToString();
}

TEST_F(CheckinTest, ActiveClientIsOnlineUntilItsHeartbeatsStop) {
  json set = server_.Admin("settings-set", {{"key", "heartbeat_s"}, {"value", "5"}});
  ASSERT_TRUE(set["ok"].get<bool>()) << set.dump();
  const std::string config = server_.WriteClientConfig("jumpoint", "active");
  Process agent({BinaryPath("sluice-client"), "--config", config, "--state-dir",
                 client_dir_ / "state"},
                client_dir_ / "agent.log");
  auto online = [&] {
    json rows = Clients(server_)["clients"];
    return rows.size() == 1 && rows[0]["online"].get<bool>();
  };
  ASSERT_TRUE(WaitUntil(online, std::chrono::seconds(20))) << server_.log();
  // Frozen, the agent neither heartbeats nor closes: the server must notice by itself.
  agent.Signal(SIGSTOP);
  EXPECT_TRUE(WaitUntil([&] { return !online(); }, std::chrono::seconds(40))) << server_.log();
  agent.Signal(SIGCONT);
  // Thawed, it notices the dead connection and comes back on its own.
  EXPECT_TRUE(WaitUntil(online, std::chrono::seconds(40))) << server_.log();
  agent.Signal(SIGTERM);
  EXPECT_EQ(agent.Wait(std::chrono::seconds(10)), 0);
}

TEST_F(CheckinTest, CheckInNowWakesARunningPassiveAgent) {
  const std::string config = server_.WriteClientConfig("access-console", "passive");
  const std::string state = client_dir_ / "state";
  const std::string log = client_dir_ / "agent.log";
  Process agent({BinaryPath("sluice-client"), "--config", config, "--state-dir", state}, log);
  auto checkins = [&] { return CountOccurrences(FileText(log), "checked in"); };
  ASSERT_TRUE(WaitUntil([&] { return checkins() == 1; }));
  RunResult asked = RunCommand({BinaryPath("sluice-client"), "--config", config, "--state-dir", state,
                         "--check-in-now"});
  EXPECT_EQ(asked.exit_code, 0) << asked.output;
  EXPECT_NE(asked.output.find("asked agent"), std::string::npos) << asked.output;
  EXPECT_TRUE(WaitUntil([&] { return checkins() == 2; })) << FileText(log);
  agent.Signal(SIGTERM);
  EXPECT_EQ(agent.Wait(std::chrono::seconds(10)), 0);
}

TEST_F(CheckinTest, ClientsSurviveARestart) {
  const std::string config = server_.WriteClientConfig("connection-agent", "passive");
  const std::string state = client_dir_ / "state";
  ASSERT_TRUE(CheckInOnce(config, state));
  EXPECT_EQ(server_.Stop(), 0);
  ASSERT_TRUE(server_.Start());
  json listed = Clients(server_);
  ASSERT_EQ(listed["clients"].size(), 1u);
  EXPECT_EQ(listed["clients"][0]["kind"], "connection-agent");
  ASSERT_TRUE(CheckInOnce(config, state)) << server_.log();
}

TEST_F(CheckinTest, SettingsAreValidatedAndPersisted) {
  json refused = server_.Admin("settings-set", {{"key", "lost_after_days"}, {"value", "10"}});
  EXPECT_FALSE(refused["ok"].get<bool>());
  EXPECT_NE(refused["error"]["message"].get<std::string>().find("15"), std::string::npos);
  json set = server_.Admin("settings-set", {{"key", "lost_after_days"}, {"value", "20"}});
  ASSERT_TRUE(set["ok"].get<bool>()) << set.dump();
  EXPECT_EQ(server_.Stop(), 0);
  ASSERT_TRUE(server_.Start());
  EXPECT_EQ(server_.Admin("settings")["result"]["settings"]["lost_after_days"], "20");
}

TEST(CheckinCommandLine, AdminConfiguresAClientThatChecksInAndIsListed) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  TempDir dir;
  const std::string config = dir / "client.json";
  RunResult made = RunCommand({BinaryPath("sluicectl"), "--data-dir", server.data_dir(), "client-config",
                        "--kind", "jump-client", "--mode", "active", "--out", config});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  RunResult checked = RunCommand({BinaryPath("sluice-client"), "--config", config, "--state-dir",
                           dir / "state", "--once"});
  ASSERT_EQ(checked.exit_code, 0) << checked.output << server.log();
  RunResult listed = RunCommand({BinaryPath("sluicectl"), "--data-dir", server.data_dir(), "clients",
                          "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  json result = json::parse(listed.output);
  ASSERT_EQ(result["clients"].size(), 1u);
  EXPECT_EQ(result["clients"][0]["kind"], "jump-client");
  EXPECT_TRUE(result["clients"][0]["stats"].contains("cpu_load"));
}

TEST(ServerStartup, SecondServerOnTheSameDataDirIsRefused) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  RunResult second = RunCommand({BinaryPath("sluiced"), "--data-dir", server.data_dir(), "--listen",
                          "127.0.0.1:0"});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.output.find("another sluiced"), std::string::npos) << second.output;
}

TEST(ServerStartup, UnbindablePortGivesOneClearLine) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  TempDir dir;
  RunResult busy = RunCommand({BinaryPath("sluiced"), "--data-dir", dir / "data", "--listen",
                        "127.0.0.1:" + std::to_string(server.port())});
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_NE(busy.output.find("sluiced: --listen"), std::string::npos) << busy.output;
  EXPECT_NE(busy.output.find("in use"), std::string::npos) << busy.output;
}

}  // namespace
}  // namespace sluice::testing
