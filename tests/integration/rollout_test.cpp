// Throttled upgrades end to end: real sluiced, real sluice-client processes, real packages.
// Each test proves its invariants from the server's audit log, never from timings.

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <nlohmann/json.hpp>

#include "common/base/file_util.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "tests/support/agent_runner.h"
#include "tests/support/process.h"
#include "tests/support/rollout_support.h"
#include "tests/support/server_process.h"
#include "tests/support/text_util.h"

namespace sluice::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

class RolloutTest : public ::testing::Test {
 protected:
  // Starts `n` agents of `kind`/`mode`; returns their state dirs.
  // A client configuration as an installer for `version` would have written it.
  std::string ConfigAt(const std::string& kind, const std::string& mode,
                       const std::string& version = "1.0.0") {
    json config = json::parse(FileText(server_->WriteClientConfig(kind, mode)));
    config["version"] = version;
    const std::string path = dir_ / ("config-" + std::to_string(++configs_) + ".json");
    std::ofstream(path) << config.dump();
    return path;
  }
  std::vector<std::string> StartAgents(int n, const std::string& kind, const std::string& mode) {
    const std::string config = ConfigAt(kind, mode);
    std::vector<std::string> dirs;
    for (int i = 0; i < n; ++i) {
      const std::string name = mode + "-" + std::to_string(agents_.size());
      dirs.push_back(dir_ / name);
      agents_.push_back(std::make_unique<Process>(
          std::vector<std::string>{BinaryPath("sluice-client"), "--config", config, "--state-dir",
                                   dir_ / name, "--log-level", "debug"},
          dir_ / (name + ".log")));
      logs_.push_back(dir_ / (name + ".log"));
    }
    return dirs;
  }
  int ClientCount() { return static_cast<int>(server_->Admin("clients")["result"]["clients"].size()); }
  json Rollout() { return server_->Admin("rollout")["result"]; }
  void SetLimit(const std::string& kind, int n) {
    auto set = server_->Admin("limits-set", {{"kind", kind}, {"max_concurrent", n}});
    ASSERT_TRUE(set["ok"].get<bool>()) << set.dump();
  }
  void SetSiteVersion(const std::string& version) {
    auto set = server_->Admin("site-set-version", {{"version", version}});
    ASSERT_TRUE(set["ok"].get<bool>()) << set.dump();
  }
  std::string AgentLogs() {
    std::string all;
    for (const auto& log : logs_) all += "--- " + log + "\n" + FileText(log);
    return all;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::vector<std::unique_ptr<Process>> agents_;
  std::vector<std::string> logs_;
  int configs_ = 0;
};

TEST_F(RolloutTest, FleetConvergesWithoutEverExceedingALiveTunedLimit) {
  // Passive clients are told to come back from the measured upgrade duration; until the first
  // upgrade finishes the server assumes the initial estimate (1 s here).
  server_ = std::make_unique<ServerProcess>(
      std::vector<std::string>{"--min-retry-ms", "300", "--initial-upgrade-estimate-s", "1"});
  ASSERT_TRUE(server_->Start());
  SetLimit("jump-client", 4);
  // Each upgrade holds its slot for the 0.3 s health check, so slots are really contended.
  PublishPackage(*server_, "jump-client", "2.0.0", MakePayload(dir_.path(), "v2", 0, 0.3));
  auto active = StartAgents(20, "jump-client", "active");
  auto passive = StartAgents(20, "jump-client", "passive");
  ASSERT_TRUE(WaitUntil([&] { return ClientCount() == 40; }, seconds(60))) << server_->log();

  SetSiteVersion("2.0.0");
  // Passive clients come back on their own schedule; here the tray's "check in now" does it.
  for (size_t i = 20; i < agents_.size(); ++i) agents_[i]->Signal(SIGUSR1);

  ASSERT_TRUE(WaitUntil([&] { return CountEvents(ReadAudit(*server_), "finish") >= 8; },
                        seconds(120)))
      << server_->log();
  const auto before_raise = ReadAudit(*server_);
  SetLimit("jump-client", 6);
  // Raising admits waiting active clients at once.
  EXPECT_TRUE(WaitUntil(
      [&] { return server_->Admin("limits")["result"]["limits"]["jump-client"]["running"] > 4; },
      seconds(20)));

  ASSERT_TRUE(WaitUntil([&] { return Rollout()["clients"]["up_to_date"] == 40; }, seconds(180)))
      << Rollout().dump(1) << AgentLogs();
  for (const auto& dir : active) EXPECT_EQ(InstalledVersion(dir), "2.0.0") << dir;
  for (const auto& dir : passive) EXPECT_EQ(InstalledVersion(dir), "2.0.0") << dir;

  auto before = sched::ReplayAudit(before_raise);
  EXPECT_EQ(before.max_running["jump-client"], 4);
  auto all = ReplayServerAudit(*server_);
  EXPECT_EQ(all.violations["jump-client"], 0);
  EXPECT_EQ(all.max_running["jump-client"], 6);
  EXPECT_TRUE(all.problems.empty()) << all.problems.front();
  json rollout = Rollout();
  EXPECT_EQ(rollout["clients"]["outdated"], 0);
  EXPECT_EQ(rollout["scopes"]["jump-client"]["running"], 0);
  EXPECT_EQ(rollout["scopes"]["jump-client"]["limit"], 6);
}

TEST_F(RolloutTest, PassiveClientsWaitConnectedAndAreGrantedWithoutCheckingInAgain) {
  // Default server settings: queued passive clients whose slot is near are held connected.
  server_ = std::make_unique<ServerProcess>(std::vector<std::string>{});
  ASSERT_TRUE(server_->Start());
  SetLimit("jump-client", 1);
  // Each upgrade holds the only slot for its 0.5 s health check.
  PublishPackage(*server_, "jump-client", "2.0.0", MakePayload(dir_.path(), "v2", 0, 0.5));
  auto passive = StartAgents(4, "jump-client", "passive");
  ASSERT_TRUE(WaitUntil([&] { return ClientCount() == 4; }, seconds(60))) << server_->log();
  SetSiteVersion("2.0.0");
  for (auto& agent : agents_) agent->Signal(SIGUSR1);
  ASSERT_TRUE(WaitUntil([&] { return Rollout()["clients"]["up_to_date"] == 4; }, seconds(120)))
      << Rollout().dump(1) << AgentLogs();
  int held = 0;
  for (const auto& log : logs_) {
    const std::string text = FileText(log);
    // A queued client was told to stay (hold_s > 0), never to go away and come back.
    if (text.find("upgrade queued") != std::string::npos) {
      EXPECT_EQ(text.find("hold_s=0"), std::string::npos) << text;
      ++held;
    }
  }
  EXPECT_GE(held, 1) << AgentLogs();  // one slot, four clients: someone waited
  auto all = ReplayServerAudit(*server_);
  EXPECT_EQ(all.violations["jump-client"], 0);
  EXPECT_EQ(all.max_running["jump-client"], 1);
  // The learned duration is kept for the next rollout.
  json scope = Rollout()["scopes"]["jump-client"];
  EXPECT_EQ(scope["estimate_samples"], 4) << scope.dump();
  server_->Stop();
  ASSERT_TRUE(server_->Start()) << server_->log();
  EXPECT_EQ(Rollout()["scopes"]["jump-client"]["estimate_samples"], 4);
}

TEST_F(RolloutTest, KilledClientsLeaseExpiresItsSlotIsReusedAndItResumesLater) {
  server_ = std::make_unique<ServerProcess>(std::vector<std::string>{"--lease-ttl-s", "2"});
  ASSERT_TRUE(server_->Start());
  SetLimit("jumpoint", 1);
  auto bandwidth = server_->Admin("limits-set", {{"bandwidth_bytes_per_s", 128 * 1024}});
  ASSERT_TRUE(bandwidth["ok"].get<bool>()) << bandwidth.dump();
  PublishPackage(*server_, "jumpoint", "2.0.0", MakePayload(dir_.path(), "v2", 0, 0, 512 * 1024));
  auto first = StartAgents(1, "jumpoint", "active");
  ASSERT_TRUE(WaitUntil([&] { return ClientCount() == 1; }, seconds(30)));
  const std::string first_id = server_->Admin("clients")["result"]["clients"][0]["id"];
  SetSiteVersion("2.0.0");
  ASSERT_TRUE(WaitUntil(
      [&] { return CountEvents(ReadAudit(*server_), "progress", first_id) >= 1; }, seconds(30)))
      << server_->log();
  agents_[0]->Signal(SIGKILL);  // mid-download
  agents_[0]->Wait(seconds(10));

  auto second = StartAgents(1, "jumpoint", "active");
  // The dead client's lease lapses and the waiting client gets the only slot.
  ASSERT_TRUE(WaitUntil([&] { return CountEvents(ReadAudit(*server_), "expire", first_id) == 1; },
                        seconds(30)))
      << server_->log();
  ASSERT_TRUE(WaitUntil([&] { return InstalledVersion(second[0]) == "2.0.0"; }, seconds(60)))
      << AgentLogs();
  // Its slot frees once its report is durable.
  ASSERT_TRUE(WaitUntil([&] { return CountEvents(ReadAudit(*server_), "finish") == 1; },
                        seconds(30)));

  // Back again, the first client resumes its partial download instead of starting over.
  const std::string config = ConfigAt("jumpoint", "active");
  Process again({BinaryPath("sluice-client"), "--config", config, "--state-dir", first[0],
                 "--once", "--log-level", "debug"},
                dir_ / "again.log");
  ASSERT_EQ(again.Wait(seconds(60)), 0) << FileText(dir_ / "again.log");
  EXPECT_EQ(InstalledVersion(first[0]), "2.0.0") << FileText(dir_ / "again.log");
  EXPECT_EQ(FileText(dir_ / "again.log").find("offset=0\n"), std::string::npos)
      << FileText(dir_ / "again.log");

  auto rows = ReadAudit(*server_);
  EXPECT_EQ(CountEvents(rows, "finish", first_id), 1);
  auto replay = sched::ReplayAudit(rows);
  EXPECT_EQ(replay.violations["jumpoint"], 0);
  EXPECT_EQ(replay.max_running["jumpoint"], 1);
  EXPECT_TRUE(replay.problems.empty()) << replay.problems.front();
}

TEST_F(RolloutTest, ServerKilledMidRolloutLosesNothingAndNeverExceedsTheLimit) {
  server_ = std::make_unique<ServerProcess>();
  ASSERT_TRUE(server_->Start());
  SetLimit("access-console", 2);
  PublishPackage(*server_, "access-console", "2.0.0", MakePayload(dir_.path(), "v2", 0, 0.5));
  StartAgents(10, "access-console", "active");
  ASSERT_TRUE(WaitUntil([&] { return ClientCount() == 10; }, seconds(60)));
  SetSiteVersion("2.0.0");
  ASSERT_TRUE(WaitUntil([&] { return CountEvents(ReadAudit(*server_), "finish") >= 3; },
                        seconds(60)));
  server_->Kill();
  ASSERT_TRUE(server_->Start());  // same data dir, same port: the agents reconnect by themselves
  ASSERT_TRUE(WaitUntil([&] { return Rollout()["clients"]["up_to_date"] == 10; }, seconds(120)))
      << Rollout().dump(1) << server_->log();

  auto rows = ReadAudit(*server_);
  auto replay = sched::ReplayAudit(rows);
  EXPECT_EQ(replay.violations["access-console"], 0);
  EXPECT_LE(replay.max_running["access-console"], 2);
  EXPECT_TRUE(replay.problems.empty()) << replay.problems.front();
  EXPECT_GE(CountEvents(rows, "server_start"), 2);
  // Every upgrade a client was told is recorded has its row.
  for (const auto& log : logs_) {
    const std::string text = FileText(log);
    for (size_t at = text.find("upgrade finished lease="); at != std::string::npos;
         at = text.find("upgrade finished lease=", at + 1)) {
      const uint64_t lease = std::stoull(text.substr(at + 23));
      bool recorded = false;
      for (const auto& row : rows) {
        recorded = recorded || (row.lease_id == lease && (row.event == "finish"));
      }
      EXPECT_TRUE(recorded) << "lease " << lease << " finished on the client but not in the audit";
    }
  }
}

TEST_F(RolloutTest, CorruptPackageAndForeignSignatureAreRefusedAndFreeTheSlot) {
  server_ = std::make_unique<ServerProcess>();
  ASSERT_TRUE(server_->Start());
  SetLimit("jump-client", 1);
  const std::string payload = MakePayload(dir_.path(), "v2", 0, 0);
  PublishPackage(*server_, "jump-client", "2.0.0", payload);
  SetSiteVersion("2.0.0");

  // A client pinned to another site's signing key refuses the manifest.
  json config = json::parse(FileText(ConfigAt("jump-client", "passive")));
  config["signing_key"] = crypto::Base64Encode(crypto::RandomBytes(32));
  const std::string foreign = dir_ / "foreign.json";
  std::ofstream(foreign) << config.dump();
  ASSERT_TRUE(CheckInOnce(foreign, dir_ / "foreign-state"));
  EXPECT_EQ(InstalledVersion(dir_ / "foreign-state"), "");

  // A package damaged on the server's disk fails the client's SHA-256 check.
  auto packages = server_->Admin("packages")["result"]["packages"];
  const std::string stored = server_->data_dir() + "/packages/" + packages[0]["sha256"].get<std::string>();
  std::string bytes = FileText(stored);
  bytes[bytes.size() / 2] ^= 0x20;
  ASSERT_TRUE(WriteFileAtomic(stored, bytes, 0644));
  const std::string honest_path = ConfigAt("jump-client", "passive");
  ASSERT_TRUE(CheckInOnce(honest_path, dir_ / "honest-state"));
  EXPECT_EQ(InstalledVersion(dir_ / "honest-state"), "");

  auto rows = ReadAudit(*server_);
  EXPECT_EQ(CountEvents(rows, "fail"), 2) << server_->log();
  for (const auto& row : rows) {
    if (row.event == "fail") {
      EXPECT_NE(row.detail.find("verify_failed"), std::string::npos);
    }
  }
  EXPECT_EQ(server_->Admin("limits")["result"]["limits"]["jump-client"]["running"], 0);
}

TEST_F(RolloutTest, FailingHealthCheckRollsBackAndIsReported) {
  server_ = std::make_unique<ServerProcess>();
  ASSERT_TRUE(server_->Start());
  PublishPackage(*server_, "connection-agent", "2.0.0", MakePayload(dir_.path(), "bad", 1, 0));
  SetSiteVersion("2.0.0");
  ASSERT_TRUE(CheckInOnce(ConfigAt("connection-agent", "passive"), dir_ / "state"));
  EXPECT_NE(InstalledVersion(dir_ / "state"), "2.0.0");
  auto rows = ReadAudit(*server_);
  EXPECT_EQ(CountEvents(rows, "rollback"), 1) << server_->log();
  auto clients = server_->Admin("clients")["result"]["clients"];
  EXPECT_EQ(clients[0]["version"], "1.0.0");
}

// Real agents whose new version fails its health check: the canary wave of 2 both roll back,
// the rollout halts at the second failure (threshold 2) and grants nothing past it, also after
// a restart; resume grants again until the threshold is met again.
TEST_F(RolloutTest, CanaryWaveHaltsAtTheThresholdAndNeverGrantsPastIt) {
  server_ = std::make_unique<ServerProcess>();
  ASSERT_TRUE(server_->Start());
  SetLimit("jump-client", 3);
  auto gate = server_->Admin("rollout-canary",
                             {{"kind", "jump-client"}, {"canary", "2"}, {"halt_after", "2"}});
  ASSERT_TRUE(gate["ok"].get<bool>()) << gate.dump();
  EXPECT_EQ(gate["result"]["canary"], "2");
  PublishPackage(*server_, "jump-client", "2.0.0", MakePayload(dir_.path(), "bad", 1, 0.2));
  StartAgents(5, "jump-client", "active");
  ASSERT_TRUE(WaitUntil([&] { return ClientCount() == 5; }, seconds(60))) << server_->log();
  SetSiteVersion("2.0.0");

  auto halted = [&] {
    return Rollout()["scopes"]["jump-client"]["gate"]["phase"] == "halted";
  };
  ASSERT_TRUE(WaitUntil(halted, seconds(60))) << Rollout().dump(1) << AgentLogs();
  auto rows = ReadAudit(*server_);
  EXPECT_EQ(CountEvents(rows, "rollout_wave"), 1);
  EXPECT_EQ(CountEvents(rows, "grant"), 2);  // the wave, and nothing past the halt
  EXPECT_EQ(CountEvents(rows, "rollback"), 2);
  EXPECT_EQ(CountEvents(rows, "rollout_halt"), 1);
  json scope = Rollout()["scopes"]["jump-client"];
  EXPECT_EQ(scope["gate"]["halt_reason"], "2 of 2 ended upgrades failed (threshold 2)");
  EXPECT_EQ(scope["running"], 0);
  EXPECT_EQ(scope["waiting"], 3);
  EXPECT_FALSE(Rollout()["forecast"]["unknown"].empty());

  // The halt survives a restart; the agents reconnect and still get nothing (the two that
  // rolled back are outdated too and queue again).
  server_->Kill();
  ASSERT_TRUE(server_->Start()) << server_->log();
  ASSERT_TRUE(WaitUntil([&] { return Rollout()["scopes"]["jump-client"]["waiting"] == 5; },
                        seconds(60)))
      << Rollout().dump(1);
  EXPECT_TRUE(halted());
  EXPECT_EQ(CountEvents(ReadAudit(*server_), "grant"), 2);

  auto resumed = server_->Admin("rollout-resume", {{"kind", "jump-client"}});
  ASSERT_TRUE(resumed["ok"].get<bool>()) << resumed.dump();
  // No wave now: 3 grants at once; the first failure (1 < 2) frees its slot for a 4th; the
  // second failure halts again, and the slots the others free stay empty.
  ASSERT_TRUE(WaitUntil([&] { return CountEvents(ReadAudit(*server_), "rollout_halt") == 2; },
                        seconds(60)))
      << Rollout().dump(1) << AgentLogs();
  ASSERT_TRUE(WaitUntil([&] { return Rollout()["scopes"]["jump-client"]["running"] == 0; },
                        seconds(60)));
  rows = ReadAudit(*server_);
  EXPECT_EQ(CountEvents(rows, "grant"), 6);
  EXPECT_EQ(CountEvents(rows, "rollout_resume"), 1);
  auto again = server_->Admin("rollout-resume", {{"kind", "jumpoint"}});
  EXPECT_FALSE(again["ok"].get<bool>());  // not halted
  auto aborted = server_->Admin("rollout-abort", {{"kind", "jump-client"}});
  ASSERT_TRUE(aborted["ok"].get<bool>()) << aborted.dump();
  EXPECT_EQ(aborted["result"]["phase"], "open");
  EXPECT_EQ(server_->Admin("limits")["result"]["policy"]["jump-client"]["mode"], "disabled");
  auto replay = ReplayServerAudit(*server_);
  EXPECT_EQ(replay.violations["jump-client"], 0);
  EXPECT_TRUE(replay.problems.empty()) << replay.problems.front();
}

TEST_F(RolloutTest, AdaptiveLimitGrowsWithDemandWithinItsRangeAndSurvivesARestart) {
  server_ = std::make_unique<ServerProcess>();
  ASSERT_TRUE(server_->Start());
  SetLimit("jump-client", 1);
  auto set = server_->Admin("limits-set", {{"kind", "jump-client"},
                                           {"max_concurrent", "auto"},
                                           {"min", 2},
                                           {"max", 5}});
  ASSERT_TRUE(set["ok"].get<bool>()) << set.dump();
  json limit = set["result"]["limits"]["jump-client"];
  EXPECT_EQ(limit["max_concurrent"], 2);  // clamped into the range at once
  EXPECT_EQ(limit["adaptive"], json({{"min", 2}, {"max", 5}, {"checkin_p99_target_ms", 500}}));

  // Every upgrade holds its slot for a 0.5 s health check: with 2 slots, clients queue.
  PublishPackage(*server_, "jump-client", "2.0.0", MakePayload(dir_.path(), "v2", 0, 0.5));
  StartAgents(16, "jump-client", "active");
  ASSERT_TRUE(WaitUntil([&] { return ClientCount() == 16; }, seconds(60))) << server_->log();
  SetSiteVersion("2.0.0");
  ASSERT_TRUE(WaitUntil([&] { return Rollout()["clients"]["up_to_date"] == 16; }, seconds(180)))
      << Rollout().dump(1) << AgentLogs();

  // The limit rose (busy slots, clients waiting), audited with its reason, never past max.
  auto rows = ReadAudit(*server_);
  int raises = 0;
  for (const auto& row : rows) {
    if (row.event != "limit_change" || row.detail.find(" auto: ") == std::string::npos) continue;
    ++raises;
    EXPECT_GE(row.limit_value, 2) << row.detail;
    EXPECT_LE(row.limit_value, 5) << row.detail;
    EXPECT_NE(row.detail.find("slots busy"), std::string::npos) << row.detail;
  }
  EXPECT_GE(raises, 1);
  auto replay = sched::ReplayAudit(rows);
  EXPECT_EQ(replay.violations["jump-client"], 0);
  EXPECT_GT(replay.max_running["jump-client"], 2);
  EXPECT_LE(replay.max_running["jump-client"], 5);
  EXPECT_TRUE(replay.problems.empty()) << replay.problems.front();

  // The range survives a crash; a fixed limit ends it.
  const json before = server_->Admin("limits")["result"]["limits"]["jump-client"];
  server_->Kill();
  ASSERT_TRUE(server_->Start());
  json after = server_->Admin("limits")["result"]["limits"]["jump-client"];
  EXPECT_EQ(after["adaptive"], before["adaptive"]);
  EXPECT_EQ(after["max_concurrent"], before["max_concurrent"]);
  SetLimit("jump-client", 4);
  after = server_->Admin("limits")["result"]["limits"]["jump-client"];
  EXPECT_TRUE(after["adaptive"].is_null()) << after.dump();
  EXPECT_EQ(after["max_concurrent"], 4);
}

// Policy changes re-evaluate every connected client while grants are still being persisted: a
// grant must carry its own copy of the package facts (run under ASan in CI), and a download in
// progress keeps its package.
TEST_F(RolloutTest, PolicyChangesWhileGrantsArePersistedLoseNothing) {
  server_ = std::make_unique<ServerProcess>();
  ASSERT_TRUE(server_->Start());
  SetLimit("jump-client", 3);
  PublishPackage(*server_, "jump-client", "2.0.0", MakePayload(dir_.path(), "v2", 0, 0.2));
  StartAgents(12, "jump-client", "active");
  ASSERT_TRUE(WaitUntil([&] { return ClientCount() == 12; }, seconds(60))) << server_->log();
  SetSiteVersion("2.0.0");
  for (int i = 0; i < 40 && Rollout()["clients"]["up_to_date"] != 12; ++i) {
    auto set = server_->Admin("policy-set", {{"kind", "jump-client"}, {"mode", "always"}});
    ASSERT_TRUE(set["ok"].get<bool>()) << set.dump() << server_->log();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(WaitUntil([&] { return Rollout()["clients"]["up_to_date"] == 12; }, seconds(180)))
      << Rollout().dump(1) << AgentLogs();
  auto replay = ReplayServerAudit(*server_);
  EXPECT_EQ(replay.violations["jump-client"], 0);
  EXPECT_TRUE(replay.problems.empty()) << replay.problems.front();
  EXPECT_EQ(server_->log().find("AddressSanitizer"), std::string::npos) << server_->log();
}

// A package file deleted from the server: reported once, slots freed, clients refused instead
// of being granted the same unreadable file forever; a stray file in packages/ is swept at start.
TEST_F(RolloutTest, AMissingPackageFileIsReportedOnceAndNeverLoops) {
  server_ = std::make_unique<ServerProcess>();
  ASSERT_TRUE(server_->Start());
  SetLimit("jump-client", 2);
  PublishPackage(*server_, "jump-client", "2.0.0", MakePayload(dir_.path(), "v2", 0, 0));
  json packages = server_->Admin("packages")["result"]["packages"];
  ASSERT_EQ(packages.size(), 1u);
  EXPECT_EQ(packages[0]["file"], "ok");
  const std::string file =
      server_->data_dir() + "/packages/" + packages[0]["sha256"].get<std::string>();
  ASSERT_EQ(::unlink(file.c_str()), 0);

  StartAgents(4, "jump-client", "active");
  ASSERT_TRUE(WaitUntil([&] { return ClientCount() == 4; }, seconds(60))) << server_->log();
  SetSiteVersion("2.0.0");
  ASSERT_TRUE(WaitUntil([&] { return CountEvents(ReadAudit(*server_), "package_missing") == 1; },
                        seconds(60)))
      << server_->log();
  std::this_thread::sleep_for(seconds(3));
  auto rows = ReadAudit(*server_);
  const int grants = CountEvents(rows, "grant");
  std::this_thread::sleep_for(seconds(3));
  rows = ReadAudit(*server_);
  EXPECT_EQ(CountEvents(rows, "grant"), grants) << "grants go on for a package that cannot be read";
  EXPECT_EQ(CountEvents(rows, "package_missing"), 1);
  EXPECT_EQ(Rollout()["scopes"]["jump-client"]["running"], 0);
  EXPECT_NE(Rollout()["scopes"]["jump-client"]["blocked"].get<std::string>().find("add the package"),
            std::string::npos)
      << Rollout().dump();
  EXPECT_EQ(server_->Admin("packages")["result"]["packages"][0]["file"], "missing");
  auto replay = sched::ReplayAudit(rows);
  EXPECT_TRUE(replay.problems.empty()) << replay.problems.front();

  // A stray file (a crash mid-import) is removed at the next start; the package's own file is not.
  const std::string stray = server_->data_dir() + "/packages/.import-crashed";
  { std::ofstream(stray) << "partial"; }
  ASSERT_EQ(server_->Stop(), 0);
  ASSERT_TRUE(server_->Start());
  std::error_code ec;
  EXPECT_FALSE(std::filesystem::exists(stray, ec));
}

TEST_F(RolloutTest, DisabledPolicyHoldsClientsBackUntilAManualUpgrade) {
  server_ = std::make_unique<ServerProcess>();
  ASSERT_TRUE(server_->Start());
  PublishPackage(*server_, "jumpoint", "2.0.0", MakePayload(dir_.path(), "v2", 0, 0));
  auto policy = server_->Admin("policy-set", {{"kind", "jumpoint"}, {"mode", "disabled"}});
  ASSERT_TRUE(policy["ok"].get<bool>()) << policy.dump();
  SetSiteVersion("2.0.0");
  const std::string config = ConfigAt("jumpoint", "passive");
  RunResult held = RunCommand({BinaryPath("sluice-client"), "--config", config, "--state-dir",
                               dir_ / "state", "--once"});
  EXPECT_EQ(held.exit_code, 0) << held.output;
  EXPECT_NE(held.output.find("policy_disabled"), std::string::npos) << held.output;
  EXPECT_EQ(InstalledVersion(dir_ / "state"), "");

  const std::string id = server_->Admin("clients")["result"]["clients"][0]["id"];
  auto unknown = server_->Admin("upgrade", {{"client_id", "no-such-client"}});
  EXPECT_FALSE(unknown["ok"].get<bool>()) << unknown.dump();
  EXPECT_EQ(unknown["error"]["code"], "not_found") << unknown.dump();
  RunResult ctl = RunCommand({BinaryPath("sluicectl"), "--data-dir", server_->data_dir(),
                              "upgrade", "no-such-client"});
  EXPECT_NE(ctl.exit_code, 0) << ctl.output;
  EXPECT_NE(ctl.output.find("not_found"), std::string::npos) << ctl.output;
  auto manual = server_->Admin("upgrade", {{"client_id", id}});
  ASSERT_TRUE(manual["ok"].get<bool>()) << manual.dump();
  RunResult upgraded = RunCommand({BinaryPath("sluice-client"), "--config", config, "--state-dir",
                                   dir_ / "state", "--once"});
  EXPECT_EQ(upgraded.exit_code, 0) << upgraded.output;
  EXPECT_EQ(InstalledVersion(dir_ / "state"), "2.0.0") << upgraded.output;
  EXPECT_EQ(CountEvents(ReadAudit(*server_), "grant"), 1);
  EXPECT_EQ(CountEvents(ReadAudit(*server_), "policy_change"), 1);
}

TEST_F(RolloutTest, IntegrationClientsAreToldToReinstall) {
  server_ = std::make_unique<ServerProcess>();
  ASSERT_TRUE(server_->Start());
  SetSiteVersion("2.0.0");
  const std::string path = ConfigAt("integration-client", "passive");
  RunResult run = RunCommand({BinaryPath("sluice-client"), "--config", path, "--state-dir",
                              dir_ / "state", "--once"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("reinstall_required"), std::string::npos) << run.output;
  EXPECT_EQ(CountEvents(ReadAudit(*server_), "grant"), 0);
}

}  // namespace
}  // namespace sluice::testing
