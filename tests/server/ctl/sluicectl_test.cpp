// Runs the built sluicectl binary against an AdminServer in this process serving canned results.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/server/ctl/fake_admin_test.h"

namespace sluice::ctl {
namespace {

using nlohmann::json;
using testing::Outcome;

const json kCounts = {{"total", 5},
                      {"online", 3},
                      {"lost", 0},
                      {"by_kind", {{"jump-client", 3}, {"jumpoint", 2}}},
                      {"by_version", {{"1.0.0", 5}}},
                      {"by_state", {{"active", 5}}}};
const json kStatus = {{"version", "0.1.0"}, {"site_version", "1.0.0"}, {"listen", "127.0.0.1:4433"},
                      {"uptime_s", 3725},   {"connections", 3},        {"clients", kCounts}};
const json kClients = {{"counts", kCounts},
                       {"clients",
                        {{{"id", "c-0001"},
                          {"kind", "jump-client"},
                          {"mode", "active"},
                          {"version", "1.0.0"},
                          {"platform", "linux-x86_64"},
                          {"online", true},
                          {"state", "active"},
                          {"first_seen", "2026-11-25T08:00:00Z"},
                          {"last_seen", "2026-11-25T09:00:00Z"},
                          {"peer_address", "127.0.0.1:5555"},
                          {"stats", {{"cpu_load", 0.5}, {"console_user", "alice"}}}},
                         {{"id", "c-0002"},
                          {"kind", "jumpoint"},
                          {"mode", "passive"},
                          {"version", "0.9.0"},
                          {"online", false},
                          {"state", "lost"},
                          {"last_seen", nullptr}}}}};
const json kSettings = {{"settings", {{"lost_after_days", "30"}, {"delete_after_days", "0"}}}};
const json kConfig = {{"server", "sluice.example:443"}, {"enrollment_key", "k-secret"}};

class SluicectlTest : public testing::FakeAdminTest {
 protected:
  void SetUp() override {
    FakeAdminTest::SetUp();
    if (HasFatalFailure()) return;
    loop_.Sync([this] {
      Serve("status", kStatus);
      Serve("clients", kClients);
      Serve("settings", kSettings);
      Serve("client-config", {{"config", kConfig}});
      server_->Register("hold", [this](const json&, Reply reply) { held_.push_back(reply); });
      server_->Register("settings-set", [this](const json& args, Reply reply) {
        received_["settings-set"] = args;
        if (args.at("key") == "bogus") {
          reply(Fail(Errc::kInvalidArgument, "unknown setting 'bogus'"));
          return;
        }
        reply(args);
      });
    });
  }
};

TEST_F(SluicectlTest, StatusForHumans) {
  Outcome run = Run({"status"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_TRUE(Has(run.out, "0.1.0 (site 1.0.0)")) << run.out;
  EXPECT_TRUE(Has(run.out, "127.0.0.1:4433")) << run.out;
  EXPECT_TRUE(Has(run.out, "1h 2m")) << run.out;
  EXPECT_TRUE(Has(run.out, "5 total, 3 online, 0 lost")) << run.out;
  EXPECT_TRUE(Has(run.out, "jump-client=3, jumpoint=2")) << run.out;
  EXPECT_EQ(Received("status"), json::object());
}

TEST_F(SluicectlTest, StatusAsJson) {
  Outcome run = Run({"status", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(json::parse(run.out), kStatus);
}

TEST_F(SluicectlTest, ClientsForHumans) {
  Outcome run = Run({"clients"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(Has(run.out, "5 total, 3 online, 0 lost")) << run.out;
  for (const char* header :
       {"ID", "KIND", "MODE", "VERSION", "ONLINE", "STATE", "LAST SEEN", "PEER"}) {
    EXPECT_TRUE(Has(run.out, header)) << header;
  }
  EXPECT_TRUE(Has(run.out, "c-0001")) << run.out;
  EXPECT_TRUE(Has(run.out, "127.0.0.1:5555")) << run.out;
  EXPECT_TRUE(Has(run.out, " ago")) << run.out;
  // The second client lacks some fields; its row still prints.
  EXPECT_TRUE(Has(run.out, "c-0002")) << run.out;
  EXPECT_TRUE(Has(run.out, "lost")) << run.out;
}

TEST_F(SluicectlTest, ClientsAsJson) {
  Outcome run = Run({"clients", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(json::parse(run.out), kClients);
}

TEST_F(SluicectlTest, SettingsShowAndSet) {
  Outcome shown = Run({"settings"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_TRUE(Has(shown.out, "KEY")) << shown.out;
  EXPECT_TRUE(Has(shown.out, "lost_after_days")) << shown.out;
  EXPECT_TRUE(Has(shown.out, "30")) << shown.out;

  Outcome as_json = Run({"settings", "--json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_EQ(json::parse(as_json.out), kSettings);

  Outcome set = Run({"settings", "set", "lost_after_days", "45"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(set.out, "lost_after_days = 45\n");
  EXPECT_EQ(Received("settings-set"), json({{"key", "lost_after_days"}, {"value", "45"}}));
}

TEST_F(SluicectlTest, ServerErrorExitsOne) {
  Outcome run = Run({"settings", "set", "bogus", "1"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "sluicectl: invalid_argument: unknown setting 'bogus'\n");
}

TEST_F(SluicectlTest, UnreachableServerExitsTwo) {
  const std::string nowhere = dir_ + "/nowhere";
  Outcome run = Run({"--data-dir", nowhere, "status"}, false);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "sluicectl: cannot reach sluiced at " + nowhere +
                         "/run/admin.sock (is the server running with --data-dir " + nowhere +
                         "?)\n");
  // A socket file nobody listens on any more reads the same.
  loop_.Sync([this] { server_->Stop(); });
  Outcome stopped = Run({"clients"});
  EXPECT_EQ(stopped.exit_code, 2);
  EXPECT_TRUE(Has(stopped.err, "cannot reach sluiced at " + dir_ + "/run/admin.sock"))
      << stopped.err;
}

TEST_F(SluicectlTest, ClientConfigWritesAnOwnerOnlyFile) {
  const std::string out = dir_ + "/jump.json";
  Outcome run = Run({"client-config", "--kind", "jump-client", "--mode", "passive", "--out", out});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "wrote " + out + "\n");
  EXPECT_EQ(Received("client-config"), json({{"kind", "jump-client"}, {"mode", "passive"}}));
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto content = ReadFile(out);
  ASSERT_TRUE(content);
  EXPECT_EQ(json::parse(*content), kConfig);
}

TEST_F(SluicectlTest, ClientConfigValidatesLocally) {
  const std::string out = dir_ + "/bad.json";
  Outcome kind = Run({"client-config", "--kind", "toaster", "--mode", "active", "--out", out});
  EXPECT_EQ(kind.exit_code, 64);
  EXPECT_TRUE(Has(kind.err, "toaster")) << kind.err;
  Outcome mode = Run({"client-config", "--kind", "jumpoint", "--mode", "eager", "--out", out});
  EXPECT_EQ(mode.exit_code, 64);
  EXPECT_EQ(Received("client-config"), std::nullopt) << "nothing reached the server";
  struct stat st {};
  EXPECT_NE(::stat(out.c_str(), &st), 0);
}

TEST_F(SluicectlTest, GlobalOptionsAfterTheSubcommandAndUsageErrors) {
  Outcome run = Run({"status", "--data-dir", dir_}, false);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Run({}).exit_code, 64);
  EXPECT_EQ(Run({"frobnicate"}).exit_code, 64);
  Outcome help = Run({"--help"}, false);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(Has(help.out, "client-config")) << help.out;
}

TEST_F(SluicectlTest, LargeClientListsArriveWhole) {
  // Far past the 1 MiB request limit: responses have their own, larger bound.
  json many = {{"counts", kCounts}, {"clients", json::array()}};
  for (int i = 0; i < 20000; ++i) {
    many["clients"].push_back({{"id", "client-" + std::to_string(i)},
                               {"kind", "jump-client"},
                               {"platform", std::string(60, 'p')}});
  }
  loop_.Sync([&] { Serve("clients", many); });
  Outcome human = Run({"clients"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_TRUE(Has(human.out, "client-19999")) << "last row printed";
  Outcome as_json = Run({"clients", "--json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_EQ(json::parse(as_json.out), many);
}

TEST_F(SluicectlTest, ServerThatNeverAnswersTimesOut) {
  // "status" is answered by a handler that keeps its reply.
  loop_.Sync([&] {
    server_->Register("status", [this](const json&, Reply reply) { held_.push_back(reply); });
  });
  Outcome run = Run({"--timeout", "1", "status"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(Has(run.err, "sluicectl: timeout: ")) << run.err;
}

TEST_F(SluicectlTest, ServerStoppingMidCallIsReported) {
  loop_.Sync([&] {
    server_->Register(
        "status", [this](const json&, Reply) { loop_.loop().Post([this] { server_->Stop(); }); });
  });
  Outcome run = Run({"status"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(Has(run.err, "sluicectl: closed: ")) << run.err;
}

TEST_F(SluicectlTest, UnexpectedResultShapesStillPrint) {
  loop_.Sync([&] {
    Serve("status", json::array({1, 2}));
    Serve("settings", {{"settings", {{"n", 5}, {"flag", true}}}});
    Serve("client-config", {{"nothing", 1}});
  });
  Outcome status = Run({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(Has(status.out, "version")) << status.out;
  Outcome settings = Run({"settings"});
  EXPECT_EQ(settings.exit_code, 0) << settings.err;
  EXPECT_TRUE(Has(settings.out, "flag  yes")) << settings.out;
  const std::string out = dir_ + "/c.json";
  Outcome config = Run({"client-config", "--kind", "jumpoint", "--mode", "active", "--out", out});
  EXPECT_EQ(config.exit_code, 1);
  EXPECT_TRUE(Has(config.err, "sluicectl: protocol: ")) << config.err;
}

}  // namespace
}  // namespace sluice::ctl
