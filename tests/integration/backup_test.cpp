// Backups and restores with the real binaries: a backup of a serving site, restored into a new
// server that its clients reach again through a loopback forwarder (the DNS change), and a
// restore killed with SIGKILL at each step of its switch.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/support/process.h"
#include "tests/support/rollout_support.h"
#include "tests/support/server_process.h"
#include "tests/support/tcp_forwarder.h"
#include "tests/support/text_util.h"

namespace sluice::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override { std::ofstream(password_) << "correct horse battery staple\n"; }

  RunResult Ctl(const std::string& data_dir, std::vector<std::string> args,
                const std::string& kill_at = "") {
    std::vector<std::string> argv;
    if (!kill_at.empty()) argv = {"/usr/bin/env", "SLUICE_TEST_RESTORE_KILL_AT=" + kill_at};
    argv.insert(argv.end(), {BinaryPath("sluicectl"), "--data-dir", data_dir});
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, seconds(120));
  }
  // A client config for `server` that dials `port` instead (the forwarder).
  std::string ConfigVia(ServerProcess& server, int port) {
    json config = json::parse(FileText(server.WriteClientConfig("jump-client", "active")));
    config["server"] = "127.0.0.1:" + std::to_string(port);
    const std::string path = dir_ / "config.json";
    std::ofstream(path) << config.dump();
    return path;
  }
  void StartAgents(int n, const std::string& config) {
    for (int i = 0; i < n; ++i) {
      const std::string name = "agent-" + std::to_string(i);
      agents_.push_back(std::make_unique<Process>(
          std::vector<std::string>{BinaryPath("sluice-client"), "--config", config, "--state-dir",
                                   dir_ / name, "--log-level", "debug"},
          dir_ / (name + ".log")));
    }
  }
  static json Clients(ServerProcess& server) {
    return server.Admin("clients")["result"]["clients"];
  }
  static int Online(ServerProcess& server) {
    int online = 0;
    for (const json& client : Clients(server)) online += client.value("online", false) ? 1 : 0;
    return online;
  }
  static std::set<std::string> ClientIds(ServerProcess& server) {
    std::set<std::string> ids;
    for (const json& client : Clients(server)) ids.insert(client["id"].get<std::string>());
    return ids;
  }
  static std::string Pin(ServerProcess& server) {
    return server
        .Admin("client-config",
               {{"kind", "jump-client"}, {"mode", "active"}})["result"]["config"]["pin"]
        .get<std::string>();
  }

  TempDir dir_;
  std::string password_ = dir_ / "password.txt";
  std::vector<std::unique_ptr<Process>> agents_;
};

TEST_F(BackupTest, MovingToNewHardwareKeepsClientsPinsSecretsAndHistory) {
  ServerProcess old_server({"--min-retry-ms", "300"});
  ASSERT_TRUE(old_server.Start());
  TcpForwarder dns(old_server.port());
  const std::string payload = MakePayload(dir_.path(), "jc-2.0.0", 0, 0);
  PublishPackage(old_server, "jump-client", "2.0.0", payload);
  StartAgents(3, ConfigVia(old_server, dns.port()));
  ASSERT_TRUE(WaitUntil([&] { return Online(old_server) == 3; }, seconds(60))) << old_server.log();
  ASSERT_TRUE(old_server.Admin("site-set-version", {{"version", "2.0.0"}})["ok"].get<bool>());
  ASSERT_TRUE(
      WaitUntil([&] { return old_server.Admin("rollout")["result"]["clients"]["up_to_date"] == 3; },
                seconds(120)))
      << old_server.log();
  const std::set<std::string> ids = ClientIds(old_server);
  const auto events_before = ReadAudit(old_server);

  // The backup, taken while the clients stay connected.
  const std::string file = dir_ / "site.sluicebackup";
  RunResult made = Ctl(old_server.data_dir(),
                       {"backup", "create", "--out", file, "--password-file", password_, "--json"});
  ASSERT_EQ(made.exit_code, 0) << made.output << old_server.log();
  const json summary = json::parse(made.output.substr(made.output.find('{')));
  EXPECT_EQ(summary["state"], "done");
  EXPECT_EQ(summary["manifest"]["site_version"], "2.0.0");
  EXPECT_TRUE(summary["manifest"]["protected"].get<bool>());
  EXPECT_EQ(Online(old_server), 3);
  EXPECT_EQ(CountEvents(ReadAudit(old_server), "backup"), 1);
  RunResult inspected =
      Ctl(old_server.data_dir(), {"backup", "inspect", file, "--password-file", password_});
  ASSERT_EQ(inspected.exit_code, 0) << inspected.output;
  EXPECT_NE(inspected.output.find("a complete, verified backup"), std::string::npos);
  EXPECT_NE(inspected.output.find("package"), std::string::npos) << inspected.output;
  const std::string old_pin = Pin(old_server);
  // The certificate with its chain and key, protected by a passphrase.
  const std::string exported = dir_ / "site-cert.p12";
  RunResult cert = Ctl(old_server.data_dir(), {"cert", "export", "--out", exported, "--chain",
                                               "--key", "--passphrase-file", password_});
  ASSERT_EQ(cert.exit_code, 0) << cert.output;
  ASSERT_EQ(old_server.Stop(), 0);

  // The new server runs the same software (site 2.0.0 with its package) and takes the
  // certificate, which it serves to new connections at once; then it is stopped.
  ServerProcess new_server({"--min-retry-ms", "300"});
  ASSERT_TRUE(new_server.Start());
  PublishPackage(new_server, "jump-client", "2.0.0", payload);
  ASSERT_TRUE(new_server.Admin("site-set-version", {{"version", "2.0.0"}})["ok"].get<bool>());
  RunResult imported =
      Ctl(new_server.data_dir(), {"cert", "import", exported, "--passphrase-file", password_});
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  EXPECT_EQ(Pin(new_server), old_pin);
  EXPECT_EQ(CountEvents(ReadAudit(new_server), "certificate_import"), 1);
  RunResult served = RunCommand({"openssl", "s_client", "-connect",
                                 "127.0.0.1:" + std::to_string(new_server.port()), "-showcerts"});
  const std::string leaf = FileText(old_server.data_dir() + "/tls/cert.pem");
  const std::string body = leaf.substr(leaf.find('\n') + 1, 64);  // first base64 line
  EXPECT_NE(served.output.find(body), std::string::npos) << served.output;
  RunResult running = Ctl(new_server.data_dir(), {"restore", file, "--password-file", password_});
  EXPECT_NE(running.exit_code, 0);
  EXPECT_NE(running.output.find("stop it first"), std::string::npos) << running.output;
  ASSERT_EQ(new_server.Stop(), 0);
  RunResult restored = Ctl(new_server.data_dir(), {"restore", file, "--password-file", password_});
  ASSERT_EQ(restored.exit_code, 0) << restored.output;
  EXPECT_NE(restored.output.find("failover pair  none"), std::string::npos) << restored.output;
  EXPECT_EQ(restored.output.find("Missing here"), std::string::npos) << restored.output;

  // The DNS change: clients reach the new server with their pins and secrets, no re-enrollment.
  ASSERT_TRUE(new_server.Start());
  dns.Retarget(new_server.port());
  EXPECT_EQ(Pin(new_server), old_pin);
  ASSERT_TRUE(WaitUntil([&] { return Online(new_server) == 3; }, seconds(90))) << new_server.log();
  EXPECT_EQ(ClientIds(new_server), ids);
  for (const json& client : Clients(new_server)) EXPECT_EQ(client["version"], "2.0.0");
  // The audit log continues from the old server's: its rows first, then new ones numbered on.
  ASSERT_TRUE(new_server.Admin("limits-set", {{"kind", "jump-client"}, {"max_concurrent", 7}})["ok"]
                  .get<bool>());
  const auto events = ReadAudit(new_server);
  ASSERT_GT(events.size(), events_before.size());
  EXPECT_TRUE(std::equal(events_before.begin(), events_before.end(), events.begin()));
  EXPECT_EQ(CountEvents(events, "restore"), 1);
  EXPECT_EQ(events.back().event, "limit_change");
  EXPECT_GT(events.back().seq, events_before.back().seq);
  auto replay = ReplayServerAudit(new_server);
  EXPECT_EQ(replay.violations["jump-client"], 0);
  EXPECT_TRUE(replay.problems.empty()) << replay.problems.front();
}

TEST_F(BackupTest, LeasesRunningAtTheBackupExpireAtTheNextStartWithinTheLimit) {
  ServerProcess old_server;
  ASSERT_TRUE(old_server.Start());
  // The upgrade holds its slot through a long health check: it is running when the backup is
  // taken.
  const std::string payload = MakePayload(dir_.path(), "slow", 0, 60);
  PublishPackage(old_server, "jump-client", "2.0.0", payload);
  ASSERT_TRUE(old_server.Admin("limits-set", {{"kind", "jump-client"}, {"max_concurrent", 1}})["ok"]
                  .get<bool>());
  StartAgents(2, old_server.WriteClientConfig("jump-client", "active"));
  ASSERT_TRUE(WaitUntil([&] { return Online(old_server) == 2; }, seconds(60))) << old_server.log();
  ASSERT_TRUE(old_server.Admin("site-set-version", {{"version", "2.0.0"}})["ok"].get<bool>());
  ASSERT_TRUE(
      WaitUntil([&] { return CountEvents(ReadAudit(old_server), "grant") == 1; }, seconds(60)));
  const std::string file = dir_ / "site.sluicebackup";
  RunResult made = Ctl(old_server.data_dir(), {"backup", "create", "--out", file, "--no-password"});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  ASSERT_EQ(old_server.Stop(), 0);

  ServerProcess new_server;
  ASSERT_TRUE(new_server.Start());
  PublishPackage(new_server, "jump-client", "2.0.0", payload);
  ASSERT_TRUE(new_server.Admin("site-set-version", {{"version", "2.0.0"}})["ok"].get<bool>());
  ASSERT_EQ(new_server.Stop(), 0);
  RunResult restored = Ctl(new_server.data_dir(), {"restore", file});
  ASSERT_EQ(restored.exit_code, 0) << restored.output;
  EXPECT_NE(restored.output.find("1 running at the backup"), std::string::npos) << restored.output;
  ASSERT_TRUE(new_server.Start());
  // The restored lease ends through the throttle at once; its client is back in line.
  ASSERT_TRUE(
      WaitUntil([&] { return CountEvents(ReadAudit(new_server), "expire") == 1; }, seconds(30)))
      << new_server.log();
  for (const auto& row : ReadAudit(new_server)) {
    if (row.event == "expire") {
      EXPECT_EQ(row.detail, "running when the restored backup was taken");
    }
  }
  auto replay = ReplayServerAudit(new_server);
  EXPECT_EQ(replay.violations["jump-client"], 0);
  EXPECT_EQ(replay.max_running["jump-client"], 1);
}

TEST_F(BackupTest, ARestoreKilledAtAnyStepLeavesTheOldSiteOrTheNew) {
  ServerProcess source;
  ASSERT_TRUE(source.Start());
  const std::string file = dir_ / "site.sluicebackup";
  RunResult made = Ctl(source.data_dir(), {"backup", "create", "--out", file, "--no-password"});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  EXPECT_NE(made.output.find("warning: the backup is not password-protected"), std::string::npos);
  const std::string source_pin = Pin(source);
  ASSERT_EQ(source.Stop(), 0);

  for (const std::string step : {"staged", "committed", "moved db", "moved tls"}) {
    SCOPED_TRACE(step);
    ServerProcess target;
    ASSERT_TRUE(target.Start());
    const std::string own_pin = Pin(target);
    ASSERT_EQ(target.Stop(), 0);
    RunResult killed = Ctl(target.data_dir(), {"restore", file}, step);
    EXPECT_EQ(killed.exit_code, 128 + SIGKILL) << killed.output;
    // The next start finishes a committed restore, or serves the old site untouched.
    ASSERT_TRUE(target.Start()) << target.log();
    EXPECT_EQ(Pin(target), step == "staged" ? own_pin : source_pin);
    EXPECT_FALSE(std::filesystem::exists(target.data_dir() + "/restore-journal"));
    ASSERT_EQ(target.Stop(), 0);
  }
}

TEST_F(BackupTest, ARestoreThatRunsOutOfDiskChangesNothing) {
  ServerProcess source;
  ASSERT_TRUE(source.Start());
  const std::string file = dir_ / "site.sluicebackup";
  ASSERT_EQ(Ctl(source.data_dir(), {"backup", "create", "--out", file, "--no-password"}).exit_code,
            0);
  ASSERT_EQ(source.Stop(), 0);
  ServerProcess target;
  ASSERT_TRUE(target.Start());
  const std::string own_pin = Pin(target);
  ASSERT_EQ(target.Stop(), 0);
  auto files = [&] {
    std::string all;
    for (const char* name : {"db/sluice.db", "keys/enrollment.key", "keys/signing.pem",
                             "tls/cert.pem", "tls/key.pem"}) {
      all += FileText(target.data_dir() + "/" + name);
    }
    return all;
  };
  const std::string before = files();
  // Writes past 64 KiB fail (EFBIG), as a full disk fails them: the database (over 100 KiB)
  // cannot be staged.
  RunResult full = RunCommand({"bash", "-c",
                               "trap '' XFSZ; ulimit -f 64; exec \"$0\" --data-dir \"$1\" "
                               "restore \"$2\"",
                               BinaryPath("sluicectl"), target.data_dir(), file});
  EXPECT_EQ(full.exit_code, 1) << full.output;
  EXPECT_NE(full.output.find("File too large"), std::string::npos) << full.output;
  EXPECT_EQ(files(), before);
  for (const auto& entry : std::filesystem::directory_iterator(target.data_dir())) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(".restore-")) << entry.path();
  }
  ASSERT_TRUE(target.Start());
  EXPECT_EQ(Pin(target), own_pin);
}

TEST_F(BackupTest, ScheduledBackupsAreTakenAndOnlyTheNewestKept) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  RunResult no_password = Ctl(server.data_dir(), {"backup", "schedule", "--every-hours", "1"});
  EXPECT_EQ(no_password.exit_code, 1);
  EXPECT_NE(no_password.output.find("needs a password"), std::string::npos) << no_password.output;
  // Three backups of an earlier schedule, the newest two hours old: one is due.
  const std::string dir = server.data_dir() + "/backups/full";
  std::filesystem::create_directories(dir);
  for (const char* day : {"01", "02", "03"}) {
    const std::string path =
        dir + "/sluice-backup-202611" + day + "T000000.000Z-site-1.0.0.sluicebackup";
    std::ofstream(path) << "old";
    std::filesystem::last_write_time(
        path, std::filesystem::file_time_type::clock::now() - std::chrono::hours(2));
  }
  RunResult scheduled = Ctl(server.data_dir(), {"backup", "schedule", "--every-hours", "1",
                                                "--keep", "2", "--password-file", password_});
  ASSERT_EQ(scheduled.exit_code, 0) << scheduled.output;
  EXPECT_NE(scheduled.output.find("every 1 h, newest 2 kept"), std::string::npos)
      << scheduled.output;
  json status;
  ASSERT_TRUE(WaitUntil(
      [&] {
        status = server.Admin("backup-status")["result"];
        return status["state"] == "done";
      },
      seconds(60)))
      << status.dump() << server.log();
  EXPECT_TRUE(status["scheduled"].get<bool>());
  std::vector<std::string> kept;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    kept.push_back(entry.path().filename().string());
  }
  std::sort(kept.begin(), kept.end());
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0], "sluice-backup-20261103T000000.000Z-site-1.0.0.sluicebackup");
  EXPECT_EQ(dir + "/" + kept[1], status["file"].get<std::string>());
  // It opens with the schedule's password, and the password itself is not in it.
  RunResult inspected = Ctl(server.data_dir(), {"backup", "inspect", dir + "/" + kept[1],
                                                "--password-file", password_, "--json"});
  ASSERT_EQ(inspected.exit_code, 0) << inspected.output;
  EXPECT_EQ(inspected.output.find("backup-password"), std::string::npos);
  EXPECT_EQ(status["schedule"]["password"], "set");
  RunResult off = Ctl(server.data_dir(), {"backup", "schedule", "--off"});
  ASSERT_EQ(off.exit_code, 0) << off.output;
  EXPECT_NE(off.output.find("schedule  off"), std::string::npos) << off.output;
}

TEST_F(BackupTest, AFailedScheduledBackupIsReportedAndNotRetriedAtOnce) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  // The backup dir cannot be made: a file is in its place.
  std::filesystem::create_directories(server.data_dir() + "/backups");
  std::ofstream(server.data_dir() + "/backups/full") << "in the way";
  RunResult scheduled =
      Ctl(server.data_dir(), {"backup", "schedule", "--every-hours", "1", "--no-password"});
  ASSERT_EQ(scheduled.exit_code, 0) << scheduled.output;
  json status;
  ASSERT_TRUE(WaitUntil(
      [&] {
        status = server.Admin("backup-status")["result"];
        return status["state"] == "failed";
      },
      seconds(60)))
      << status.dump();
  EXPECT_EQ(status["id"], 1);
  EXPECT_EQ(status["error"]["code"], "io") << status.dump();
  // Asking again (the schedule is checked on every change) does not start another at once.
  ASSERT_EQ(Ctl(server.data_dir(), {"backup", "schedule", "--every-hours", "2"}).exit_code, 0);
  EXPECT_EQ(server.Admin("backup-status")["result"]["id"], 1);
  RunResult shown = Ctl(server.data_dir(), {"backup", "status"});
  EXPECT_NE(shown.output.find("1 failed (scheduled)"), std::string::npos) << shown.output;
}

TEST_F(BackupTest, OnATerminalCreateShowsItsProgress) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  // script(1) gives sluicectl a terminal; the last poll reports the whole backup done.
  const std::string command = BinaryPath("sluicectl") + " --data-dir " + server.data_dir() +
                              " backup create --no-password --out " + (dir_ / "tty.backup");
  RunResult run = RunCommand({"script", "-qec", command, "/dev/null"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("backup: 100% ("), std::string::npos) << run.output;
  // Not on a terminal: no progress line.
  RunResult piped =
      Ctl(server.data_dir(), {"backup", "create", "--no-password", "--out", dir_ / "piped.backup"});
  ASSERT_EQ(piped.exit_code, 0) << piped.output;
  EXPECT_EQ(piped.output.find("backup: 100%"), std::string::npos) << piped.output;
}

TEST_F(BackupTest, CreateNeedsAPasswordOrAnExplicitNoPassword) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  RunResult neither = Ctl(server.data_dir(), {"backup", "create", "--out", dir_ / "a"});
  EXPECT_EQ(neither.exit_code, 1);
  EXPECT_NE(neither.output.find("--password-file"), std::string::npos) << neither.output;
  RunResult both = Ctl(server.data_dir(), {"backup", "create", "--out", dir_ / "b",
                                           "--password-file", password_, "--no-password"});
  EXPECT_EQ(both.exit_code, 64) << both.output;
  RunResult made = Ctl(server.data_dir(), {"backup", "create", "--out", dir_ / "c",
                                           "--password-file", password_, "--no-history"});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  EXPECT_NE(made.output.find("left out (audit)"), std::string::npos) << made.output;
  RunResult again = Ctl(server.data_dir(),
                        {"backup", "create", "--out", dir_ / "c", "--password-file", password_});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("already exists"), std::string::npos);
  for (const char* name : {"a", "b"}) EXPECT_FALSE(std::filesystem::exists(dir_ / name));
}

}  // namespace
}  // namespace sluice::testing
