// Site updates end to end: bundles built with the real sluicectl, a real sluiced with an update
// source, real agents following the site to its new version, offline files, and a server killed
// in the middle of an install.

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "client/stats/system_stats.h"
#include "common/db/database.h"
#include "tests/support/process.h"
#include "tests/support/rollout_support.h"
#include "tests/support/server_process.h"
#include "tests/support/text_util.h"

namespace sluice::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

class SiteUpdateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(source_);
    RunResult keygen = RunCommand({BinaryPath("sluicectl"), "update", "keygen", "--out", vendor_});
    ASSERT_EQ(keygen.exit_code, 0) << keygen.output;
    RunResult base = Build({"--kind", "base", "--version", "5.0.0", "--out", source_ + "/base"});
    ASSERT_EQ(base.exit_code, 0) << base.output;
    payload_ = MakePayload(dir_.path(), "jc-2.0.0", 0, 0);
    RunResult site = Build({"--kind", "site", "--version", "2.0.0", "--depends-on", "base-5.0.0",
                            "--package", "jump-client:" + client::PlatformName() + ":" + payload_,
                            "--out", source_ + "/site-2.0.0.bundle"});
    ASSERT_EQ(site.exit_code, 0) << site.output;
    EXPECT_NE(site.output.find("built site-2.0.0 (1 packages, depends on base-5.0.0)"),
              std::string::npos)
        << site.output;
  }

  RunResult Build(std::vector<std::string> args) {
    std::vector<std::string> argv = {BinaryPath("sluicectl"), "update", "build", "--signing-key",
                                     vendor_};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }
  std::unique_ptr<ServerProcess> MakeServer(bool with_source) {
    std::vector<std::string> args = {"--update-trust-key", vendor_ + ".pub"};
    if (with_source) args.insert(args.end(), {"--update-source", source_});
    return std::make_unique<ServerProcess>(args);
  }
  RunResult Ctl(ServerProcess& server, std::vector<std::string> args) {
    std::vector<std::string> argv = {BinaryPath("sluicectl"), "--data-dir", server.data_dir()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, seconds(60));
  }
  json CtlJson(ServerProcess& server, std::vector<std::string> args) {
    args.push_back("--json");
    RunResult run = Ctl(server, args);
    EXPECT_EQ(run.exit_code, 0) << run.output;
    return json::parse(run.output, nullptr, false);
  }
  std::string Setting(ServerProcess& server, const std::string& key) {
    return server.Admin("settings")["result"]["settings"][key].get<std::string>();
  }
  std::vector<std::string> Listed(ServerProcess& server) {
    std::vector<std::string> ids;
    const json check = CtlJson(server, {"update", "check"});
    for (const auto& entry : check["updates"]) {
      ids.push_back(entry["id"].get<std::string>());
    }
    return ids;
  }
  size_t Backups(ServerProcess& server) {
    const std::string dir = server.data_dir() + "/backups";
    if (!std::filesystem::exists(dir)) return 0;
    size_t n = 0;
    for (const auto& file : std::filesystem::directory_iterator(dir)) {
      if (file.path().filename().string().starts_with("sluice-")) ++n;
    }
    return n;
  }

  TempDir dir_;
  std::string source_ = dir_ / "mirror";
  std::string vendor_ = dir_ / "vendor.pem";
  std::string payload_;
};

TEST_F(SiteUpdateTest, BaseThenSiteMovesTheSiteAndConnectedAgentsUpgrade) {
  auto server = MakeServer(true);
  ASSERT_TRUE(server->Start());
  json config = json::parse(FileText(server->WriteClientConfig("jump-client", "active")));
  config["version"] = "1.0.0";
  const std::string config_path = dir_ / "agent.json";
  std::ofstream(config_path) << config.dump();
  Process agent({BinaryPath("sluice-client"), "--config", config_path, "--state-dir",
                 dir_ / "agent", "--log-level", "debug"},
                dir_ / "agent.log");
  ASSERT_TRUE(WaitUntil([&] { return server->Admin("status")["result"]["clients"]["online"] == 1; },
                        seconds(30)));

  json check = CtlJson(*server, {"update", "check"});
  ASSERT_EQ(check["updates"].size(), 2u) << check.dump(1);
  EXPECT_EQ(check["updates"][0]["id"], "base-5.0.0");
  EXPECT_EQ(check["updates"][0]["missing"], json::array());
  EXPECT_EQ(check["updates"][1]["id"], "site-2.0.0");
  EXPECT_EQ(check["updates"][1]["missing"], json::array({"base-5.0.0"}));
  RunResult text = Ctl(*server, {"update", "check"});
  EXPECT_NE(text.output.find("site-2.0.0"), std::string::npos) << text.output;

  RunResult refused = Ctl(*server, {"update", "install", "site-2.0.0"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("depends on base-5.0.0, which is not installed"), std::string::npos)
      << refused.output;
  EXPECT_EQ(Setting(*server, "site_version"), "1.0.0");
  EXPECT_EQ(Backups(*server), 0u);

  RunResult base = Ctl(*server, {"update", "install", "base-5.0.0"});
  ASSERT_EQ(base.exit_code, 0) << base.output << server->log();
  EXPECT_EQ(server->Admin("status")["result"]["base_version"], "5.0.0");
  EXPECT_EQ(Setting(*server, "site_version"), "1.0.0");
  EXPECT_EQ(Backups(*server), 1u);
  EXPECT_EQ(Listed(*server), std::vector<std::string>{"site-2.0.0"});
  EXPECT_EQ(CtlJson(*server, {"update", "check"})["updates"][0]["missing"], json::array());

  RunResult site = Ctl(*server, {"update", "install", "site-2.0.0"});
  ASSERT_EQ(site.exit_code, 0) << site.output << server->log();
  EXPECT_NE(site.output.find("installed site-2.0.0; site version 2.0.0"), std::string::npos)
      << site.output;
  EXPECT_EQ(Setting(*server, "site_version"), "2.0.0");
  EXPECT_EQ(Backups(*server), 2u);
  EXPECT_TRUE(Listed(*server).empty());
  // The backup taken before the site update holds the state before it: base only.
  const std::string backup =
      json::parse(Ctl(*server, {"update", "list", "--json"}).output)["updates"][1]["backup"]
          .get<std::string>();
  EXPECT_NE(backup.find("-site-1.0.0-base-5.0.0-before-site-2.0.0.db"), std::string::npos);
  auto copy = db::Database::Open(backup, {.wal = false, .busy_timeout_ms = 100, .create = false});
  ASSERT_TRUE(copy) << backup;
  std::vector<std::string> in_backup;
  ASSERT_TRUE((*copy)->Query("SELECT id FROM installed_updates",
                             [&](const db::Statement& row) { in_backup.push_back(row.Text(0)); }));
  EXPECT_EQ(in_backup, std::vector<std::string>{"base-5.0.0"});
  json installed = CtlJson(*server, {"update", "list"});
  ASSERT_EQ(installed["updates"].size(), 2u);
  json packages = server->Admin("packages")["result"]["packages"];
  ASSERT_EQ(packages.size(), 1u);
  EXPECT_EQ(packages[0]["version"], "2.0.0");
  EXPECT_EQ(packages[0]["kind"], "jump-client");

  // The agent was told to reconnect, came straight back, and the rollout upgraded it.
  EXPECT_TRUE(WaitUntil([&] { return InstalledVersion(dir_ / "agent") == "2.0.0"; }, seconds(60)))
      << FileText(dir_ / "agent.log") << server->log();
  EXPECT_NE(FileText(dir_ / "agent.log").find("site asks to reconnect now"), std::string::npos);
  EXPECT_EQ(CountEvents(ReadAudit(*server), "grant"), 1);

  RunResult again = Ctl(*server, {"update", "install", "site-2.0.0"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("already installed"), std::string::npos) << again.output;
}

TEST_F(SiteUpdateTest, OfflineFileFromADownloadKeyInstallsOnlyOnItsSite) {
  auto offline = MakeServer(false);
  ASSERT_TRUE(offline->Start());
  RunResult no_source = Ctl(*offline, {"update", "check"});
  EXPECT_EQ(no_source.exit_code, 1);
  EXPECT_NE(no_source.output.find("--update-source"), std::string::npos) << no_source.output;

  RunResult key = Ctl(*offline, {"update", "download-key"});
  ASSERT_EQ(key.exit_code, 0) << key.output;
  const std::string key_text = key.output.substr(0, key.output.find('\n'));
  json key_json = CtlJson(*offline, {"update", "download-key", "--valid-for", "10"});
  EXPECT_EQ(key_json["site_version"], "1.0.0");

  // A key altered on the way is refused; nothing is written.
  std::string tampered = key_text;
  tampered[30] = tampered[30] == 'A' ? 'B' : 'A';
  const std::string out = dir_ / "offline.sluice";
  RunResult bad = RunCommand({BinaryPath("sluicectl"), "update", "fetch-offline", "--key", tampered,
                              "--source", source_, "--out", out});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("damaged or altered"), std::string::npos) << bad.output;
  EXPECT_FALSE(std::filesystem::exists(out));

  // On "another machine": no server, just the key and the mirror.
  RunResult fetched =
      RunCommand({BinaryPath("sluicectl"), "update", "fetch-offline", "--key", key_text, "--source",
                  source_, "--out", out, "--trust-key", vendor_ + ".pub"});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.output;
  EXPECT_NE(fetched.output.find("wrote 2 updates"), std::string::npos) << fetched.output;
  EXPECT_NE(fetched.output.find("base-5.0.0, site-2.0.0"), std::string::npos) << fetched.output;

  auto other = MakeServer(false);
  ASSERT_TRUE(other->Start());
  RunResult wrong_site = Ctl(*other, {"update", "install-file", out});
  EXPECT_EQ(wrong_site.exit_code, 1);
  EXPECT_NE(wrong_site.output.find("was made for site"), std::string::npos) << wrong_site.output;
  EXPECT_EQ(Setting(*other, "site_version"), "1.0.0");

  RunResult installed = Ctl(*offline, {"update", "install-file", out});
  ASSERT_EQ(installed.exit_code, 0) << installed.output << offline->log();
  EXPECT_NE(installed.output.find("installed base-5.0.0"), std::string::npos);
  EXPECT_NE(installed.output.find("installed site-2.0.0"), std::string::npos);
  EXPECT_EQ(Setting(*offline, "site_version"), "2.0.0");
  EXPECT_EQ(Setting(*offline, "base_version"), "5.0.0");

  // Installing the same file again changes nothing; a fresh key now asks for nothing.
  RunResult twice = Ctl(*offline, {"update", "install-file", out});
  ASSERT_EQ(twice.exit_code, 0) << twice.output;
  EXPECT_NE(twice.output.find("already installed site-2.0.0"), std::string::npos);
  RunResult key2 = Ctl(*offline, {"update", "download-key"});
  RunResult nothing = RunCommand({BinaryPath("sluicectl"), "update", "fetch-offline", "--key",
                                  key2.output.substr(0, key2.output.find('\n')), "--source",
                                  source_, "--out", dir_ / "empty.sluice"});
  ASSERT_EQ(nothing.exit_code, 0) << nothing.output;
  EXPECT_NE(nothing.output.find("wrote 0 updates"), std::string::npos) << nothing.output;
}

TEST_F(SiteUpdateTest, DamagedBundlesAreReportedOrRefusedWithoutChangingTheSite) {
  std::ofstream(source_ + "/notes.txt") << "mirror notes, not a bundle";
  auto server = MakeServer(true);
  ASSERT_TRUE(server->Start());
  json check = CtlJson(*server, {"update", "check"});
  ASSERT_EQ(check["problems"].size(), 1u) << check.dump(1);
  EXPECT_TRUE(check["problems"][0].get<std::string>().starts_with("notes.txt: "));
  ASSERT_EQ(Ctl(*server, {"update", "install", "base-5.0.0"}).exit_code, 0);

  // One byte of the package changed after signing: listed (the header is intact), not installed.
  const std::string bundle = source_ + "/site-2.0.0.bundle";
  std::string bytes = FileText(bundle);
  bytes.back() ^= 0x01;
  std::ofstream(bundle, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_EQ(Listed(*server), std::vector<std::string>{"site-2.0.0"});
  const size_t backups = Backups(*server);
  RunResult refused = Ctl(*server, {"update", "install", "site-2.0.0"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("fails its SHA-256 check"), std::string::npos) << refused.output;
  const json last = server->Admin("update-progress")["result"]["last"];
  EXPECT_EQ(last["what"], "site-2.0.0") << last.dump();
  EXPECT_EQ(last["ok"], false) << last.dump();
  EXPECT_NE(last["error"].get<std::string>().find("fails its SHA-256 check"), std::string::npos)
      << last.dump();
  EXPECT_EQ(Setting(*server, "site_version"), "1.0.0");
  EXPECT_EQ(Backups(*server), backups);
  RunResult unknown = Ctl(*server, {"update", "install", "site-9.9.9"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("not_found: no update 'site-9.9.9'"), std::string::npos)
      << unknown.output;
}

// Killed mid-install (after the backup, and after the package import), the site keeps its old
// version; after a restart the same install succeeds.
TEST_F(SiteUpdateTest, KilledMidInstallKeepsTheOldVersionAndARetrySucceeds) {
  auto server = MakeServer(true);
  ASSERT_TRUE(server->Start());
  ASSERT_EQ(Ctl(*server, {"update", "install", "base-5.0.0"}).exit_code, 0);
  size_t backups = Backups(*server);
  for (const std::string stage : {"after_backup", "after_import"}) {
    SCOPED_TRACE(stage);
    server->Stop();
    const std::vector<std::string> usual = server->extra_args();
    std::vector<std::string> pausing = usual;
    pausing.insert(pausing.end(), {"--test-pause-install", stage});
    server->set_extra_args(pausing);
    ASSERT_TRUE(server->Start());
    server->set_extra_args(usual);
    Process install({BinaryPath("sluicectl"), "--data-dir", server->data_dir(), "update", "install",
                     "site-2.0.0"},
                    dir_ / "install.log");
    ASSERT_TRUE(WaitUntil(
        [&] { return server->log().find("install paused at " + stage) != std::string::npos; },
        seconds(30)))
        << server->log();
    // What the dashboard shows meanwhile: the step the install has reached.
    const json progress = server->Admin("update-progress")["result"];
    EXPECT_EQ(progress["installing"], true) << progress.dump();
    EXPECT_EQ(progress["what"], "site-2.0.0") << progress.dump();
    EXPECT_EQ(progress["step"], stage == "after_backup" ? "backing up the database"
                                                        : "importing and signing the packages")
        << progress.dump();
    EXPECT_EQ(progress["steps"], 5);
    EXPECT_FALSE(progress.contains("last")) << progress.dump();
    server->Kill();
    EXPECT_TRUE(install.Wait(seconds(10)).has_value());
    EXPECT_EQ(Backups(*server), ++backups);

    ASSERT_TRUE(server->Start());
    EXPECT_EQ(Setting(*server, "site_version"), "1.0.0");
    EXPECT_EQ(server->Admin("packages")["result"]["packages"].size(), 0u);
    EXPECT_EQ(Listed(*server), std::vector<std::string>{"site-2.0.0"});
  }
  RunResult retry = Ctl(*server, {"update", "install", "site-2.0.0"});
  ASSERT_EQ(retry.exit_code, 0) << retry.output << server->log();
  const json progress = server->Admin("update-progress")["result"];
  EXPECT_EQ(progress["installing"], false) << progress.dump();
  EXPECT_EQ(progress["last"]["what"], "site-2.0.0") << progress.dump();
  EXPECT_EQ(progress["last"]["ok"], true) << progress.dump();
  EXPECT_EQ(Setting(*server, "site_version"), "2.0.0");
  EXPECT_EQ(server->Admin("packages")["result"]["packages"].size(), 1u);
  EXPECT_TRUE(Listed(*server).empty());
  EXPECT_EQ(Backups(*server), backups + 1);
}

}  // namespace
}  // namespace sluice::testing
