// The failover pair with real servers on loopback: establishing with matching and mismatching
// keys, syncs (first, forced, killed on either side), break, and taking over with and without
// a last sync or the old primary; clients follow a loopback forwarder (the shared IP) and the
// audit logs of both servers replayed together show the limit held.

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "client/stats/system_stats.h"
#include "common/proto/messages.h"
#include "server/sched/audit_replay.h"
#include "tests/support/process.h"
#include "tests/support/raw_tls_client.h"
#include "tests/support/rollout_support.h"
#include "tests/support/server_process.h"
#include "tests/support/tcp_forwarder.h"
#include "tests/support/text_util.h"

namespace sluice::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;
namespace fs = std::filesystem;

class PairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(key_) << "correct horse battery staple";
    std::ofstream(other_key_) << "a different key entirely";
    std::vector<std::string> args = {
        "--advertise",         "127.0.0.1:" + std::to_string(shared_.port()),
        "--pair-first-sync-s", "1",
        "--pair-probe-s",      "1",
        "--lease-ttl-s",       "6"};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    a_ = std::make_unique<ServerProcess>(args);
    b_ = std::make_unique<ServerProcess>(args);
    ASSERT_TRUE(a_->Start());
    ASSERT_TRUE(b_->Start());
    b_now_ = b_.get();
    shared_.Retarget(a_->port());
  }

  static std::string Address(ServerProcess& server) {
    return "127.0.0.1:" + std::to_string(server.port());
  }
  RunResult Ctl(ServerProcess& server, std::vector<std::string> args,
                seconds timeout = seconds(120)) {
    std::vector<std::string> argv = {BinaryPath("sluicectl"), "--data-dir", server.data_dir()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, timeout);
  }
  // An admin request that waits out a restart (role changes and applied syncs restart sluiced).
  static json AdminWhenUp(ServerProcess& server, const std::string& cmd,
                          const json& args = json::object()) {
    json response;
    const bool answered = WaitUntil(
        [&] {
          try {
            response = server.Admin(cmd, args);
            return true;
          } catch (const std::exception&) {
            return false;
          }
        },
        seconds(30));
    EXPECT_TRUE(answered) << cmd << " got no answer\n" << server.log();
    return response;
  }
  static json Status(ServerProcess& server) { return AdminWhenUp(server, "pair-status")["result"]; }
  static bool WaitForRole(ServerProcess& server, const std::string& role) {
    return WaitUntil([&] { return Status(server).value("role", "") == role; }, seconds(30));
  }
  // The backup's last applied sync (0: none yet).
  static int64_t LastSyncMs(ServerProcess& server) {
    const json status = Status(server);
    return status["last_sync"].is_object() ? status["last_sync"].value("finished_ms", int64_t{0})
                                           : 0;
  }
  void SetKeys() {
    ASSERT_EQ(Ctl(*a_, {"pair", "set-key", "--psk-file", key_}).exit_code, 0);
    ASSERT_EQ(Ctl(*b_, {"pair", "set-key", "--psk-file", key_}).exit_code, 0);
  }
  // A primary, B its backup, synced once.
  void Establish() {
    SetKeys();
    const RunResult made =
        Ctl(*a_, {"pair", "establish", "--peer", Address(*b_), "--reverse", Address(*a_)});
    ASSERT_EQ(made.exit_code, 0) << made.output;
    ASSERT_TRUE(WaitForRole(*b_, "backup")) << b_->log();
    ASSERT_TRUE(WaitUntil([&] { return LastSyncMs(*b_) > 0; }, seconds(60))) << b_->log();
  }
  // `sync-now` answers once the sync is staged; the backup applies it by restarting.
  RunResult SyncNow(ServerProcess& on, const std::vector<std::string>& extra = {}) {
    const int64_t before = LastSyncMs(*b_now_);
    std::vector<std::string> args = {"pair", "sync-now"};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult synced = Ctl(on, args);
    if (synced.exit_code == 0) {
      EXPECT_TRUE(WaitUntil([&] { return LastSyncMs(*b_now_) > before; }, seconds(30)));
    }
    return synced;
  }
  static std::set<std::string> ClientIds(ServerProcess& server) {
    std::set<std::string> ids;
    const json response = AdminWhenUp(server, "clients");
    for (const json& client : response["result"]["clients"]) {
      ids.insert(client["id"].get<std::string>());
    }
    return ids;
  }
  static int Online(ServerProcess& server) {
    int online = 0;
    const json response = AdminWhenUp(server, "clients");
    for (const json& client : response["result"]["clients"]) {
      online += client.value("online", false) ? 1 : 0;
    }
    return online;
  }
  // A client config that dials the shared address (the forwarder), or `direct` when given.
  std::string SharedConfig(ServerProcess& server, const std::string& mode = "active",
                           ServerProcess* direct = nullptr) {
    json config = json::parse(FileText(server.WriteClientConfig("jump-client", mode)));
    config["server"] =
        direct != nullptr ? Address(*direct) : "127.0.0.1:" + std::to_string(shared_.port());
    const std::string path = dir_ / ("config-" + std::to_string(++configs_) + ".json");
    std::ofstream(path) << config.dump();
    return path;
  }
  void StartAgents(int n, const std::string& config) {
    for (int i = 0; i < n; ++i) {
      const std::string name = "agent-" + std::to_string(agents_.size());
      agents_.push_back(std::make_unique<Process>(
          std::vector<std::string>{BinaryPath("sluice-client"), "--config", config, "--state-dir",
                                   dir_ / name, "--log-level", "debug"},
          dir_ / (name + ".log")));
    }
  }
  // Starts `server` again with SLUICE_TEST_PAIR_KILL_AT set (or cleared).
  static void RestartWithKillPoint(ServerProcess& server, const std::string& point) {
    server.Stop();
    if (point.empty()) {
      ::unsetenv("SLUICE_TEST_PAIR_KILL_AT");
    } else {
      ::setenv("SLUICE_TEST_PAIR_KILL_AT", point.c_str(), 1);
    }
    ASSERT_TRUE(server.Start());
    ::unsetenv("SLUICE_TEST_PAIR_KILL_AT");
  }
  static std::string PackageFile(ServerProcess& server, const std::string& version) {
    const json response = AdminWhenUp(server, "packages");
    for (const json& package : response["result"]["packages"]) {
      if (package.value("version", "") == version) return package.value("sha256", "");
    }
    return "";
  }

  TempDir dir_;
  std::string key_ = dir_ / "pair.key";
  std::string other_key_ = dir_ / "other.key";
  TcpForwarder shared_{1};  // the site's shared address; retargeted once A runs
  std::unique_ptr<ServerProcess> a_;
  std::unique_ptr<ServerProcess> b_;
  std::vector<std::unique_ptr<Process>> agents_;
  int configs_ = 0;
  ServerProcess* b_now_ = nullptr;  // the backup now (SyncNow waits for it)
  std::vector<std::string> extra_args_;  // for both servers, set before SetUp
};

TEST_F(PairTest, EstablishNeedsTheSameKeyInBothDirectionsAndChangesNothingOtherwise) {
  ASSERT_EQ(Ctl(*a_, {"pair", "set-key", "--psk-file", key_}).exit_code, 0);
  const std::vector<std::string> establish = {"pair",       "establish", "--peer",
                                              Address(*b_), "--reverse", Address(*a_)};
  RunResult refused = Ctl(*a_, establish);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("no pair key is set"), std::string::npos) << refused.output;

  ASSERT_EQ(Ctl(*b_, {"pair", "set-key", "--psk-file", other_key_}).exit_code, 0);
  refused = Ctl(*a_, establish);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("does not hold the same pair key"), std::string::npos)
      << refused.output;
  EXPECT_EQ(Status(*a_)["role"], "none");
  EXPECT_EQ(Status(*b_)["role"], "none");

  ASSERT_EQ(Ctl(*b_, {"pair", "set-key", "--psk-file", key_}).exit_code, 0);
  refused = Ctl(*a_, {"pair", "establish", "--peer", "127.0.0.1:" + std::to_string(shared_.port()),
                      "--reverse", Address(*a_)});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("shared address"), std::string::npos) << refused.output;
  // --reverse must reach the primary itself: here it names the backup.
  refused = Ctl(*a_, {"pair", "establish", "--peer", Address(*b_), "--reverse", Address(*b_)});
  EXPECT_EQ(refused.exit_code, 1);
  refused = Ctl(*a_, {"pair", "establish", "--peer", Address(*b_), "--reverse",
                      "127.0.0.1:" + std::to_string(b_->port() == 1 ? 2 : 1)});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("cannot reach the primary"), std::string::npos) << refused.output;
  EXPECT_EQ(Status(*a_)["role"], "none");
  EXPECT_EQ(Status(*b_)["role"], "none");

  const RunResult made = Ctl(*a_, establish);
  ASSERT_EQ(made.exit_code, 0) << made.output;
  EXPECT_EQ(Status(*a_)["role"], "primary");
  ASSERT_TRUE(WaitForRole(*b_, "backup")) << b_->log();
  const json status = Status(*b_);
  EXPECT_EQ(status["peer"], Address(*a_));
  EXPECT_EQ(status["serves_clients"], false);
  EXPECT_EQ(Ctl(*a_, establish).exit_code, 1);  // already in a pair
  // The backup's site is the primary's: changes made there would be lost at the next sync.
  const json refused_change =
      AdminWhenUp(*b_, "settings-set", {{"key", "heartbeat_s"}, {"value", "20"}});
  EXPECT_EQ(refused_change["ok"], false);
  EXPECT_NE(refused_change.dump().find("make the change on the primary"), std::string::npos);

  // A client reaching the backup is told to go away and come back, not refused for good.
  std::unique_ptr<RawTlsClient> client;
  ASSERT_TRUE(WaitUntil([&] { return (client = RawTlsClient::Connect(b_->port())) != nullptr; }));
  ASSERT_TRUE(
      client->WriteMessage(proto::Checkin{.client_id = "5c0ffee0-0000-4000-8000-000000000001",
                                          .client_secret = std::string(64, 'a'),
                                          .version = "1.0.0",
                                          .platform = "linux-x86_64"}));
  auto answer = client->ReadMessage();
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(std::holds_alternative<proto::ErrorMessage>(*answer));
  EXPECT_EQ(std::get<proto::ErrorMessage>(*answer).code, proto::ErrorCode::kNotPrimary);
}

TEST_F(PairTest, APairConnectionWithoutTheKeyIsRefusedAndClientsNeverReachPairRequests) {
  ASSERT_NO_FATAL_FAILURE(SetKeys());
  // A client on the client protocol cannot send pair requests.
  auto client = RawTlsClient::Connect(a_->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(
      client->WriteMessage(proto::PairRequest{.id = 1, .op = "snapshot", .body = {'{', '}'}}));
  auto answer = client->ReadMessage();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(std::get<proto::ErrorMessage>(*answer).code, proto::ErrorCode::kUnexpectedMessage);

  // On the pair ALPN: a request before the key was proved, garbage, and a wrong proof.
  auto peer = RawTlsClient::Connect(a_->port(), true, "sluice-pair/1");
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(
      peer->WriteMessage(proto::PairRequest{.id = 1, .op = "snapshot", .body = {'{', '}'}}));
  answer = peer->ReadMessage();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(std::get<proto::ErrorMessage>(*answer).code, proto::ErrorCode::kAuthFailed);
  EXPECT_TRUE(peer->WaitClosed());

  peer = RawTlsClient::Connect(a_->port(), true, "sluice-pair/1");
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(peer->WriteFrame(Bytes{0xc1, 0x00, 0x07}));
  EXPECT_TRUE(peer->WaitClosed());

  peer = RawTlsClient::Connect(a_->port(), true, "sluice-pair/1");
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(peer->WriteMessage(proto::PairHello{.nonce = Bytes(32, 1), .server_id = "x"}));
  answer = peer->ReadMessage();
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(std::holds_alternative<proto::PairChallenge>(*answer));
  ASSERT_TRUE(peer->WriteMessage(proto::PairProof{.proof = Bytes(32, 7)}));
  answer = peer->ReadMessage();
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(std::holds_alternative<proto::PairReply>(*answer));
  EXPECT_EQ(std::get<proto::PairReply>(*answer).error, "auth");
  EXPECT_TRUE(peer->WaitClosed());
  EXPECT_NE(a_->log().find("pair connection refused"), std::string::npos);
  EXPECT_EQ(Status(*a_)["role"], "none");
}

TEST_F(PairTest, TheFirstSyncBringsTheSiteAndSyncNowWaitsForTheNext) {
  StartAgents(2, a_->WriteClientConfig("jump-client", "active"));
  ASSERT_TRUE(WaitUntil([&] { return Online(*a_) == 2; }, seconds(60))) << a_->log();
  ASSERT_NO_FATAL_FAILURE(Establish());
  EXPECT_EQ(ClientIds(*b_), ClientIds(*a_));
  // The same certificate key (clients' pins hold across a switch) and site keys.
  for (const char* file :
       {"tls/key.pem", "tls/cert.pem", "keys/enrollment.key", "keys/signing.pem"}) {
    EXPECT_EQ(FileText(b_->data_dir() + "/" + file), FileText(a_->data_dir() + "/" + file)) << file;
  }

  PublishPackage(*a_, "jump-client", "2.0.0", MakePayload(dir_.path(), "payload", 0, 0.1, 3 << 20));
  ASSERT_EQ(AdminWhenUp(*a_, "settings-set", {{"key", "heartbeat_s"}, {"value", "20"}})["ok"],
            true);
  const int64_t first = LastSyncMs(*b_);
  const RunResult synced = SyncNow(*a_);
  ASSERT_EQ(synced.exit_code, 0) << synced.output;
  EXPECT_NE(synced.output.find("1 packages fetched"), std::string::npos) << synced.output;
  EXPECT_GT(LastSyncMs(*b_), first);
  const std::string sha = PackageFile(*b_, "2.0.0");
  ASSERT_FALSE(sha.empty());
  EXPECT_TRUE(fs::exists(b_->data_dir() + "/packages/" + sha));
  EXPECT_EQ(AdminWhenUp(*b_, "settings")["result"]["settings"]["heartbeat_s"], "20");
  // The primary shows the backup's sync too; a second sync moves no package again.
  EXPECT_GT(LastSyncMs(*a_), first);
  const RunResult again = SyncNow(*b_, {"--json"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(json::parse(again.output)["packages"], 0);
}

TEST_F(PairTest, AKillOnEitherSideMidSyncKeepsThePreviousSyncAndTheNextOneCompletes) {
  ASSERT_NO_FATAL_FAILURE(Establish());
  const std::set<std::string> before = ClientIds(*b_);
  StartAgents(1, a_->WriteClientConfig("jump-client", "active"));
  ASSERT_TRUE(WaitUntil([&] { return Online(*a_) == 1; }, seconds(60))) << a_->log();
  PublishPackage(*a_, "jump-client", "2.0.0", MakePayload(dir_.path(), "payload", 0, 0.1, 2 << 20));

  // The primary killed while serving the sync: the backup reports it and keeps its state.
  ASSERT_NO_FATAL_FAILURE(RestartWithKillPoint(*a_, "serve"));
  const RunResult failed = Ctl(*b_, {"pair", "sync-now"});
  EXPECT_EQ(failed.exit_code, 1) << failed.output;
  EXPECT_EQ(Status(*b_)["history"].back()["event"], "sync_failed");
  EXPECT_EQ(ClientIds(*b_), before);
  ASSERT_NO_FATAL_FAILURE(RestartWithKillPoint(*a_, ""));

  // The backup killed at each step of its sync.
  for (const std::string point : {"snapshot", "package", "staged"}) {
    SCOPED_TRACE(point);
    ASSERT_NO_FATAL_FAILURE(RestartWithKillPoint(*b_, point));
    const RunResult killed = Ctl(*b_, {"pair", "sync-now"});
    EXPECT_NE(killed.exit_code, 0);
    ASSERT_NO_FATAL_FAILURE(RestartWithKillPoint(*b_, ""));
    EXPECT_EQ(Status(*b_)["role"], "backup");
    EXPECT_EQ(ClientIds(*b_), before) << "the previous sync is intact";
    EXPECT_TRUE(PackageFile(*b_, "2.0.0").empty());
  }
  const RunResult synced = SyncNow(*b_);
  ASSERT_EQ(synced.exit_code, 0) << synced.output;
  EXPECT_EQ(ClientIds(*b_), ClientIds(*a_));
  EXPECT_FALSE(PackageFile(*b_, "2.0.0").empty());
  EXPECT_EQ(Status(*b_)["role"], "backup");
}

TEST_F(PairTest, AHandoverThatNeverCompletesLeavesThePrimaryServing) {
  ASSERT_NO_FATAL_FAILURE(Establish());
  // The backup dies with its last sync staged, after the primary stopped serving for it.
  ASSERT_NO_FATAL_FAILURE(RestartWithKillPoint(*b_, "staged"));
  EXPECT_NE(Ctl(*b_, {"pair", "become-primary", "--sync-first"}).exit_code, 0);
  ASSERT_TRUE(WaitUntil([&] {
    return Status(*a_)["history"].back()["event"] == "handover_cancelled";
  })) << a_->log();
  EXPECT_EQ(Status(*a_)["role"], "primary");
  EXPECT_EQ(Status(*a_)["serves_clients"], true);
  auto client = RawTlsClient::Connect(a_->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(
      client->WriteMessage(proto::Checkin{.client_id = "5c0ffee0-0000-4000-8000-000000000002",
                                          .client_secret = std::string(64, 'a'),
                                          .version = "1.0.0",
                                          .platform = "linux-x86_64"}));
  auto answer = client->ReadMessage();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(std::get<proto::ErrorMessage>(*answer).code, proto::ErrorCode::kNotEnrolled);
}

TEST_F(PairTest, ASwapWithoutALastSyncHoldsGrantsForOneLeaseLifetime) {
  ASSERT_NO_FATAL_FAILURE(Establish());
  const RunResult became = Ctl(*b_, {"pair", "become-primary", "--json"});
  ASSERT_EQ(became.exit_code, 0) << became.output;
  const int64_t fence = json::parse(became.output)["grant_fence_until_ms"].get<int64_t>();
  EXPECT_GT(fence, 0) << "leases the old primary granted since the last sync are unknown here";
  ASSERT_TRUE(WaitForRole(*b_, "primary"));
  ASSERT_TRUE(WaitForRole(*a_, "backup"));
  EXPECT_EQ(Status(*b_)["grant_fence_until_ms"], fence);
  const auto rows = ReadAudit(*b_);
  ASSERT_EQ(CountEvents(rows, "pair_takeover"), 1);
  for (const auto& row : rows) {
    if (row.event == "pair_takeover") {
      EXPECT_EQ(sched::DetailField(row.detail, "fence_until_ms"), std::to_string(fence));
    }
  }
}

TEST_F(PairTest, BreakEndsOnlyTheRelationship) {
  StartAgents(1, SharedConfig(*a_));
  ASSERT_TRUE(WaitUntil([&] { return Online(*a_) == 1; }, seconds(60))) << a_->log();
  ASSERT_EQ(AdminWhenUp(*a_, "settings-set", {{"key", "heartbeat_s"}, {"value", "20"}})["ok"],
            true);
  ASSERT_NO_FATAL_FAILURE(Establish());
  const RunResult broken = Ctl(*b_, {"pair", "break"});
  ASSERT_EQ(broken.exit_code, 0) << broken.output;
  EXPECT_NE(broken.output.find("peer told"), std::string::npos) << broken.output;
  ASSERT_TRUE(WaitForRole(*b_, "none"));
  EXPECT_EQ(Status(*a_)["role"], "none");
  EXPECT_EQ(AdminWhenUp(*b_, "settings")["result"]["settings"]["heartbeat_s"], "20");
  EXPECT_EQ(ClientIds(*b_), ClientIds(*a_));
  // The former backup serves clients again, and its new rows cannot collide with the primary's.
  shared_.Retarget(b_->port());
  ASSERT_TRUE(WaitUntil([&] { return Online(*b_) == 1; }, seconds(60))) << b_->log();
  const auto rows = ReadAudit(*b_);
  EXPECT_EQ(CountEvents(rows, "pair_break"), 1);
  EXPECT_GE(rows.back().seq, int64_t{1} << 32);
  EXPECT_EQ(Status(*b_)["history"].back()["event"], "broken");
}

TEST_F(PairTest, WritesOnBothSidesWhileBrokenAreMergedOnceReestablished) {
  StartAgents(1, SharedConfig(*a_));
  ASSERT_TRUE(WaitUntil([&] { return Online(*a_) == 1; }, seconds(60))) << a_->log();
  ASSERT_NO_FATAL_FAILURE(Establish());
  ASSERT_EQ(Ctl(*a_, {"pair", "break"}).exit_code, 0);
  ASSERT_TRUE(WaitForRole(*b_, "none"));

  // While broken, each server enrolls a client of its own and logs a limit change.
  StartAgents(1, SharedConfig(*a_, "active", a_.get()));
  StartAgents(1, SharedConfig(*b_, "active", b_.get()));
  ASSERT_TRUE(WaitUntil([&] { return ClientIds(*a_).size() == 2 && ClientIds(*b_).size() == 2; },
                        seconds(60)));
  ASSERT_EQ(AdminWhenUp(*a_, "limits-set", {{"kind", "jumpoint"}, {"max_concurrent", 3}})["ok"],
            true);
  ASSERT_EQ(
      AdminWhenUp(*b_, "limits-set", {{"kind", "access-console"}, {"max_concurrent", 4}})["ok"],
      true);
  std::set<std::string> everyone = ClientIds(*a_);
  for (const std::string& id : ClientIds(*b_)) everyone.insert(id);
  ASSERT_EQ(everyone.size(), 3u);

  const RunResult made =
      Ctl(*a_, {"pair", "establish", "--peer", Address(*b_), "--reverse", Address(*a_)});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  ASSERT_TRUE(WaitForRole(*b_, "backup"));
  ASSERT_TRUE(WaitUntil([&] { return ClientIds(*a_).size() == 3; }, seconds(60))) << b_->log();
  EXPECT_EQ(ClientIds(*a_), everyone);
  const auto rows = ReadAudit(*a_);
  int jumpoint = 0, console = 0;
  std::set<int64_t> seqs;
  for (const auto& row : rows) {
    EXPECT_TRUE(seqs.insert(row.seq).second) << "seq " << row.seq << " twice";
    if (row.event == "limit_change" && row.scope == "jumpoint") ++jumpoint;
    if (row.event == "limit_change" && row.scope == "access-console") ++console;
  }
  EXPECT_EQ(jumpoint, 1);
  EXPECT_EQ(console, 1) << "the backup's row is merged once";
  // The backup's next sync brings the merged site back to it.
  ASSERT_TRUE(WaitUntil([&] { return ClientIds(*b_) == everyone; }, seconds(60)));
  EXPECT_TRUE(sched::ReplayAuditLogs({ReadAudit(*a_), ReadAudit(*b_)}).problems.empty());
  EXPECT_NE(FileText(b_->data_dir() + "/pair/state.json").find("\"merged\""), std::string::npos);
}

TEST_F(PairTest, BecomePrimaryNeedsTheOldPrimaryOrForceAndClientsFollowWithoutEnrolling) {
  StartAgents(2, SharedConfig(*a_));
  ASSERT_TRUE(WaitUntil([&] { return Online(*a_) == 2; }, seconds(60))) << a_->log();
  ASSERT_NO_FATAL_FAILURE(Establish());
  const std::set<std::string> clients = ClientIds(*a_);

  // With a last sync and the old primary alive: a swap, with every lease, so no fence.
  RunResult became = Ctl(*b_, {"pair", "become-primary", "--sync-first", "--json"});
  ASSERT_EQ(became.exit_code, 0) << became.output;
  EXPECT_EQ(json::parse(became.output)["grant_fence_until_ms"], 0);
  ASSERT_TRUE(WaitForRole(*b_, "primary"));
  ASSERT_TRUE(WaitForRole(*a_, "backup"));
  shared_.Retarget(b_->port());
  ASSERT_TRUE(WaitUntil([&] { return Online(*b_) == 2; }, seconds(90))) << b_->log();
  EXPECT_EQ(ClientIds(*b_), clients) << "no client enrolled again";
  EXPECT_EQ(Status(*b_)["peer"], Address(*a_));
  ASSERT_TRUE(WaitUntil([&] { return LastSyncMs(*a_) > 0; }, seconds(60))) << a_->log();

  // The new primary (B) dies; its backup (A) will not take over without --force.
  b_->Kill();
  RunResult refused = Ctl(*a_, {"pair", "become-primary"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("nothing changed"), std::string::npos) << refused.output;
  EXPECT_EQ(Status(*a_)["role"], "backup");
  became = Ctl(*a_, {"pair", "become-primary", "--force", "--json"});
  ASSERT_EQ(became.exit_code, 0) << became.output;
  EXPECT_GT(json::parse(became.output)["grant_fence_until_ms"].get<int64_t>(), 0);
  ASSERT_TRUE(WaitForRole(*a_, "primary"));
  shared_.Retarget(a_->port());
  ASSERT_TRUE(WaitUntil([&] { return Online(*a_) == 2; }, seconds(90))) << a_->log();
  EXPECT_EQ(ClientIds(*a_), clients);

  // The old primary comes back, finds its peer took over, and steps down to backup.
  ASSERT_TRUE(b_->Start());
  ASSERT_TRUE(WaitForRole(*b_, "backup")) << b_->log();
  EXPECT_EQ(Status(*b_)["history"].back()["event"], "stepped_down");
}

TEST_F(PairTest, TheLimitHoldsAcrossAForcedTakeoverMidRollout) {
  StartAgents(6, SharedConfig(*a_));
  ASSERT_TRUE(WaitUntil([&] { return Online(*a_) == 6; }, seconds(60))) << a_->log();
  ASSERT_EQ(AdminWhenUp(*a_, "limits-set", {{"kind", "jump-client"}, {"max_concurrent", 2}})["ok"],
            true);
  PublishPackage(*a_, "jump-client", "2.0.0", MakePayload(dir_.path(), "payload", 0, 2.0, 1 << 20));
  ASSERT_NO_FATAL_FAILURE(Establish());
  ASSERT_EQ(AdminWhenUp(*a_, "site-set-version", {{"version", "2.0.0"}})["ok"], true);
  // Mid-rollout: sync, let the primary grant a little more, then lose it.
  ASSERT_TRUE(WaitUntil([&] { return CountEvents(ReadAudit(*a_), "grant") >= 2; }, seconds(60)));
  const RunResult mid = SyncNow(*a_);
  ASSERT_EQ(mid.exit_code, 0) << mid.output;
  ASSERT_TRUE(WaitUntil([&] { return CountEvents(ReadAudit(*a_), "grant") >= 3; }, seconds(60)));
  a_->Kill();
  ASSERT_EQ(Ctl(*b_, {"pair", "become-primary", "--force"}).exit_code, 0);
  ASSERT_TRUE(WaitForRole(*b_, "primary"));
  shared_.Retarget(b_->port());
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (int i = 0; i < 6; ++i) {
          if (InstalledVersion(dir_ / ("agent-" + std::to_string(i))) != "2.0.0") return false;
        }
        return true;
      },
      seconds(180)))
      << b_->log();
  // A comes back (it steps down) so that its log can be read.
  ASSERT_TRUE(a_->Start());
  ASSERT_TRUE(WaitForRole(*a_, "backup")) << a_->log();
  const auto a_rows = ReadAudit(*a_);
  const auto b_rows = ReadAudit(*b_);
  const sched::ReplayResult replay = sched::ReplayAuditLogs({a_rows, b_rows});
  EXPECT_TRUE(replay.violations.empty());
  EXPECT_LE(replay.max_running.at("jump-client"), 2);
  for (const std::string& problem : replay.problems) ADD_FAILURE() << problem;
}

// Both guided pair upgrades with a real site update from an update source.
class PairUpgradeTest : public PairTest {
 protected:
  void SetUp() override {
    fs::create_directories(source_);
    RunResult keygen = RunCommand({BinaryPath("sluicectl"), "update", "keygen", "--out", vendor_});
    ASSERT_EQ(keygen.exit_code, 0) << keygen.output;
    RunResult site = RunCommand(
        {BinaryPath("sluicectl"), "update", "build", "--signing-key", vendor_, "--kind", "site",
         "--version", "2.0.0", "--package",
         "jump-client:" + client::PlatformName() + ":" + MakePayload(dir_.path(), "jc", 0, 0),
         "--out", source_ + "/site-2.0.0.bundle"});
    ASSERT_EQ(site.exit_code, 0) << site.output;
    extra_args_ = {"--update-trust-key", vendor_ + ".pub", "--update-source", source_};
    PairTest::SetUp();
  }
  std::string SiteVersion(ServerProcess& server) {
    return AdminWhenUp(server, "settings")["result"]["settings"]["site_version"];
  }
  RunResult Upgrade(std::vector<std::string> args) {
    std::vector<std::string> argv = {"pair", "upgrade"};
    argv.insert(argv.end(), args.begin(), args.end());
    return Ctl(*a_, argv, seconds(180));
  }

  std::string source_ = dir_ / "source";
  std::string vendor_ = dir_ / "vendor";
};

TEST_F(PairUpgradeTest, SynchronousUpgradeResumesAfterACrashAndEndsWithThePrimaryInPlace) {
  StartAgents(1, SharedConfig(*a_));
  ASSERT_TRUE(WaitUntil([&] { return Online(*a_) == 1; }, seconds(60))) << a_->log();
  ASSERT_NO_FATAL_FAILURE(Establish());
  const std::vector<std::string> start = {"--synchronous", "--update", "site-2.0.0",
                                          "--no-backup-password"};
  std::vector<std::string> dry = start;
  dry.push_back("--dry-run");
  RunResult plan = Upgrade(dry);
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  EXPECT_NE(plan.output.find("7. re-establish the pair"), std::string::npos) << plan.output;
  EXPECT_EQ(SiteVersion(*a_), "1.0.0");

  // Backup, sync, break and this server's upgrade run; then it waits for the operator.
  RunResult run = Upgrade(start);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("verify this server"), std::string::npos) << run.output;
  EXPECT_EQ(SiteVersion(*a_), "2.0.0");
  EXPECT_EQ(Status(*a_)["role"], "none");
  ASSERT_TRUE(WaitForRole(*b_, "none")) << run.output;
  EXPECT_EQ(Upgrade(start).exit_code, 1) << "one procedure at a time";

  // A crash (or a closed terminal) here: --continue picks it up.
  a_->Kill();
  ASSERT_TRUE(a_->Start());
  run = Upgrade({"--continue"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("update install site-2.0.0"), std::string::npos) << run.output;
  run = Upgrade({"--continue"});  // the other server is not upgraded yet
  EXPECT_NE(run.output.find("runs site 1.0.0"), std::string::npos) << run.output;

  ASSERT_EQ(Ctl(*b_, {"update", "install", "site-2.0.0"}).exit_code, 0);
  run = Upgrade({"--continue"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("complete"), std::string::npos) << run.output;
  EXPECT_EQ(Status(*a_)["role"], "primary");
  ASSERT_TRUE(WaitForRole(*b_, "backup"));
  EXPECT_EQ(CountEvents(ReadAudit(*a_), "pair_upgrade_step"), 7);
  // The client follows the site to 2.0.0 through the throttle, as after any update.
  EXPECT_TRUE(
      WaitUntil([&] { return InstalledVersion(dir_ / "agent-0") == "2.0.0"; }, seconds(120)));
}

TEST_F(PairUpgradeTest, AsynchronousUpgradeSwitchesToTheOtherServerAndEndsWithItPrimary) {
  StartAgents(1, SharedConfig(*a_));
  ASSERT_TRUE(WaitUntil([&] { return Online(*a_) == 1; }, seconds(60))) << a_->log();
  ASSERT_NO_FATAL_FAILURE(Establish());
  RunResult run = Upgrade({"--asynchronous", "--update", "site-2.0.0", "--no-backup-password"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("upgrade the other server first"), std::string::npos) << run.output;
  EXPECT_EQ(SiteVersion(*a_), "1.0.0") << "this server waits for the other to be upgraded";
  ASSERT_TRUE(WaitForRole(*b_, "none"));

  run = Upgrade({"--continue"});
  EXPECT_NE(run.output.find("as before"), std::string::npos) << run.output;
  ASSERT_EQ(Ctl(*b_, {"update", "install", "site-2.0.0"}).exit_code, 0);
  run = Upgrade({"--continue"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("point test machines"), std::string::npos) << run.output;
  run = Upgrade({"--continue"});
  EXPECT_NE(run.output.find("switch the site's shared IP"), std::string::npos) << run.output;
  shared_.Retarget(b_->port());  // the operator switches traffic
  run = Upgrade({"--continue"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(SiteVersion(*a_), "2.0.0");
  EXPECT_NE(run.output.find("pair establish --peer " + Address(*a_)), std::string::npos)
      << run.output;
  ASSERT_EQ(
      Ctl(*b_, {"pair", "establish", "--peer", Address(*a_), "--reverse", Address(*b_)}).exit_code,
      0);
  ASSERT_TRUE(WaitForRole(*a_, "backup"));
  run = Upgrade({"--continue"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("complete"), std::string::npos) << run.output;
  EXPECT_EQ(Status(*b_)["role"], "primary");
  EXPECT_TRUE(
      WaitUntil([&] { return InstalledVersion(dir_ / "agent-0") == "2.0.0"; }, seconds(120)));
}

}  // namespace
}  // namespace sluice::testing
