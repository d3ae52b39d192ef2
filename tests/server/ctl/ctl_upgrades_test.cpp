// Runs the built sluicectl's throttle commands (limits, policy, upgrade, rollout, audit) against
// an AdminServer in this process serving canned results.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/server/ctl/fake_admin_test.h"

namespace sluice::ctl {
namespace {

using nlohmann::json;
using testing::Outcome;

const json kLimits = {{"limits",
                       {{"jump-client", {{"max_concurrent", 20}, {"running", 3}, {"waiting", 17}}},
                        {"jumpoint", {{"max_concurrent", 5}, {"running", 0}, {"waiting", 0}}}}},
                      {"bandwidth_bytes_per_s", 0},
                      {"connection_rate_per_s", 50},
                      {"policy",
                       {{"jump-client", {{"mode", "always"}, {"version", ""}}},
                        {"jumpoint", {{"mode", "this-version-only"}, {"version", "2.0.0"}}}}}};
const json kRollout = {
    {"site_version", "2.0.0"},
    {"clients",
     {{"total", 40},
      {"by_kind_version", {{"jump-client", {{"1.0.0", 10}, {"2.0.0", 30}}}}},
      {"up_to_date", 30},
      {"outdated", 10}}},
    {"scopes",
     {{"jump-client",
       {{"running", 4},
        {"limit", 4},
        {"waiting", 6},
        {"gate", {{"phase", "wave"}, {"wave_size", 5}, {"wave_granted", 3}}}}}}},
    {"failures", {{"failed", 0}, {"rolled_back", 1}, {"expired", 2}}},
    {"forecast", {{"to_90_s", 60}, {"to_100_s", 120}, {"unknown", json::array()}}},
    {"estimated_completion_s", 120}};
const json kAudit = {{"events",
                      {{{"seq", 1},
                        {"time", "2026-11-25T08:00:00Z"},
                        {"event", "grant"},
                        {"scope", "jump-client"},
                        {"client_id", "c-0001"},
                        {"lease_id", 3},
                        {"version", "2.0.0"},
                        {"detail", ""},
                        {"running", 1},
                        {"limit", 4}},
                       {{"seq", 2},
                        {"time", "2026-11-25T08:00:05Z"},
                        {"event", "bandwidth_change"},
                        {"scope", ""},
                        {"client_id", ""},
                        {"lease_id", 0},
                        {"version", ""},
                        {"detail", "10485760"},
                        {"running", 0},
                        {"limit", 0}}}}};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class CtlUpgradesTest : public testing::FakeAdminTest {
 protected:
  void SetUp() override {
    FakeAdminTest::SetUp();
    if (HasFatalFailure()) return;
    loop_.Sync([this] {
      Serve("limits", kLimits);
      Serve("limits-set", kLimits);
      server_->Register("policy-set", [this](const json& args, Reply reply) {
        received_["policy-set"] = args;
        json result = args;
        result["version"] = args.at("mode") == "this-version-only" ? "2.0.0" : "";
        reply(result);
      });
      Serve("rollout", kRollout);
      Serve("audit", kAudit);
      server_->Register("upgrade", [this](const json& args, Reply reply) {
        received_["upgrade"] = args;
        if (args.at("client_id") == "nobody") {
          reply(Fail(Errc::kNotFound, "no client 'nobody'"));
          return;
        }
        reply(json{{"state", "queued"}, {"position", 3}});
      });
    });
  }

  // Runs `limits set` with `args` and returns what reached the server (nullopt: nothing did).
  std::optional<json> LimitsSet(std::vector<std::string> args, int expected_exit = 0) {
    args.insert(args.begin(), {"limits", "set"});
    Outcome run = Run(args);
    EXPECT_EQ(run.exit_code, expected_exit) << run.err;
    return TakeReceived("limits-set");
  }
};

TEST_F(CtlUpgradesTest, LimitsForHumans) {
  Outcome run = Run({"limits"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_TRUE(Has(run.out, "bandwidth        unlimited\n")) << run.out;
  EXPECT_TRUE(Has(run.out, "connection rate  50/s\n")) << run.out;
  EXPECT_TRUE(Has(run.out, "SCOPE        MAX  RUNNING  WAITING  POLICY\n")) << run.out;
  EXPECT_TRUE(Has(run.out, "jump-client  20   3        17       always\n")) << run.out;
  EXPECT_TRUE(Has(run.out, "jumpoint     5    0        0        this-version-only (2.0.0)\n"))
      << run.out;
  EXPECT_EQ(TakeReceived("limits"), json::object());
}

TEST_F(CtlUpgradesTest, LimitsAsJson) {
  Outcome run = Run({"limits", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(json::parse(run.out), kLimits);
}

TEST_F(CtlUpgradesTest, LimitsShowsRatesInBinaryUnits) {
  json limits = kLimits;
  limits["bandwidth_bytes_per_s"] = 10 << 20;
  limits["connection_rate_per_s"] = 200;
  loop_.Sync([&] { Serve("limits", limits); });
  Outcome run = Run({"limits"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(Has(run.out, "bandwidth        10 MiB/s\n")) << run.out;
  EXPECT_TRUE(Has(run.out, "connection rate  200/s\n")) << run.out;
  limits["bandwidth_bytes_per_s"] = 1536;
  loop_.Sync([&] { Serve("limits", limits); });
  EXPECT_TRUE(Has(Run({"limits"}).out, "bandwidth        1536 B/s\n"));
}

TEST_F(CtlUpgradesTest, LimitsSetParsesBandwidthRates) {
  const std::vector<std::pair<std::string, int64_t>> cases = {
      {"0", 0},
      {"unlimited", 0},
      {"Unlimited", 0},
      {"1048576", 1048576},
      {"100B", 100},
      {"512K", 512 << 10},
      {"512KiB/s", 512 << 10},
      {"10M", 10 << 20},
      {"10MiB/s", 10 << 20},
      {"10mi", 10 << 20},
      {"1.5KiB", 1536},
      {"1G", 1LL << 30},
      {"2gib/s", 2LL << 30},
  };
  for (const auto& [text, bytes] : cases) {
    EXPECT_EQ(LimitsSet({"--bandwidth", text}), json({{"bandwidth_bytes_per_s", bytes}})) << text;
  }
}

TEST_F(CtlUpgradesTest, LimitsSetRefusesBadRatesLocally) {
  for (const char* text : {"10MB", "fast", "-1", "0.1", "10X", "", "1e6", "5 MiB per s"}) {
    Outcome run = Run({"limits", "set", "--bandwidth", text});
    EXPECT_EQ(run.exit_code, 64) << text;
    EXPECT_TRUE(Has(run.err, "--bandwidth")) << text << ": " << run.err;
  }
  Outcome ambiguous = Run({"limits", "set", "--bandwidth", "10MB"});
  EXPECT_TRUE(Has(ambiguous.err, "MB is ambiguous; use MiB")) << ambiguous.err;
  for (const char* text : {"abc", "-5", "0", "unlimited", "1.5", "50/m"}) {
    EXPECT_EQ(LimitsSet({"--connection-rate", text}, 64), std::nullopt) << text;
  }
  EXPECT_EQ(TakeReceived("limits-set"), std::nullopt) << "nothing reached the server";
}

TEST_F(CtlUpgradesTest, LimitsSetSendsOnlyTheGivenOptions) {
  EXPECT_EQ(LimitsSet({"--kind", "jump-client", "--max-concurrent", "40"}),
            json({{"kind", "jump-client"}, {"max_concurrent", 40}}));
  EXPECT_EQ(LimitsSet({"--connection-rate", "100"}), json({{"connection_rate_per_s", 100}}));
  EXPECT_EQ(LimitsSet({"--connection-rate", "100/s"}), json({{"connection_rate_per_s", 100}}));
  EXPECT_EQ(LimitsSet({"--max-concurrent", "2", "--kind", "jumpoint", "--bandwidth", "1M",
                       "--connection-rate", "25"}),
            json({{"kind", "jumpoint"},
                  {"max_concurrent", 2},
                  {"bandwidth_bytes_per_s", 1 << 20},
                  {"connection_rate_per_s", 25}}));
}

TEST_F(CtlUpgradesTest, LimitsSetPrintsTheNewLimits) {
  Outcome run = Run({"limits", "set", "--kind", "jump-client", "--max-concurrent", "20"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(Has(run.out, "jump-client  20")) << run.out;
  loop_.Sync([&] { Serve("limits-set", json::object()); });
  Outcome bare = Run({"limits", "set", "--connection-rate", "5"});
  ASSERT_EQ(bare.exit_code, 0) << bare.err;
  EXPECT_EQ(bare.out, "ok\n");
}

TEST_F(CtlUpgradesTest, LimitsSetArgumentErrorsExit64) {
  const std::vector<std::vector<std::string>> bad = {
      {},                                                   // nothing to set
      {"--max-concurrent", "5"},                            // needs --kind
      {"--kind", "jump-client"},                            // --kind alone sets nothing
      {"--kind", "jump-client", "--bandwidth", "1M"},       // --kind only with --max-concurrent
      {"--kind", "jump-client", "--max-concurrent", "0"},   // at least 1
      {"--kind", "jump-client", "--max-concurrent", "-3"},  // at least 1
      {"--kind", "jump-client", "--max-concurrent", "many"},
      {"--kind", "toaster", "--max-concurrent", "5"},  // unknown kind
      {"--frobnicate"},
  };
  for (const auto& args : bad) {
    std::string shown;
    for (const auto& arg : args) shown += arg + " ";
    EXPECT_EQ(LimitsSet(args, 64), std::nullopt) << shown;
  }
  Outcome empty = Run({"limits", "set"});
  EXPECT_TRUE(Has(empty.err, "--max-concurrent")) << empty.err;
  Outcome no_kind = Run({"limits", "set", "--max-concurrent", "5"});
  EXPECT_TRUE(Has(no_kind.err, "--kind")) << no_kind.err;
}

TEST_F(CtlUpgradesTest, PolicySet) {
  Outcome run = Run({"policy", "set", "--kind", "jumpoint", "--mode", "this-version-only"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(TakeReceived("policy-set"), json({{"kind", "jumpoint"}, {"mode", "this-version-only"}}));
  EXPECT_EQ(run.out, "jumpoint: this-version-only (2.0.0)\n");
  Outcome always = Run({"policy", "set", "--kind", "jump-client", "--mode", "always"});
  ASSERT_EQ(always.exit_code, 0) << always.err;
  EXPECT_EQ(always.out, "jump-client: always\n");
  EXPECT_EQ(TakeReceived("policy-set"), json({{"kind", "jump-client"}, {"mode", "always"}}));
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"policy", "set", "--kind", "jumpoint", "--mode", "sometimes"},
           {"policy", "set", "--mode", "always"},
           {"policy", "set", "--kind", "jumpoint"},
           {"policy"}}) {
    EXPECT_EQ(Run(args).exit_code, 64) << args.size();
  }
  EXPECT_EQ(TakeReceived("policy-set"), std::nullopt);
}

TEST_F(CtlUpgradesTest, UpgradePrintsTheState) {
  Outcome run = Run({"upgrade", "c-0042"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "queued\n");
  EXPECT_EQ(TakeReceived("upgrade"), json({{"client_id", "c-0042"}}));
  Outcome unknown = Run({"upgrade", "nobody"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "sluicectl: not_found: no client 'nobody'\n");
  EXPECT_EQ(Run({"upgrade"}).exit_code, 64);
}

TEST_F(CtlUpgradesTest, RolloutForHumans) {
  Outcome run = Run({"rollout"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(Has(run.out,
                  "site 2.0.0: 30 of 40 clients up to date, 10 outdated; 90 % in 1m, all in 2m\n"))
      << run.out;
  EXPECT_FALSE(Has(run.out, "forecast:")) << run.out;
  EXPECT_TRUE(Has(run.out, "SCOPE        RUNNING  LIMIT  WAITING  STATE     VERSIONS\n")) << run.out;
  EXPECT_TRUE(Has(run.out, "jump-client  4        4      6        wave 3/5  1.0.0=10, 2.0.0=30\n"))
      << run.out;
  EXPECT_TRUE(Has(run.out, "failures: expired=2, failed=0, rolled_back=1\n")) << run.out;
  EXPECT_EQ(TakeReceived("rollout"), json::object());
}

TEST_F(CtlUpgradesTest, RolloutAsJsonAndWhenComplete) {
  Outcome as_json = Run({"rollout", "--json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_EQ(json::parse(as_json.out), kRollout);
  json done = kRollout;
  done["clients"]["outdated"] = 0;
  done["clients"]["up_to_date"] = 40;
  done["estimated_completion_s"] = 0;
  loop_.Sync([&] { Serve("rollout", done); });
  Outcome run = Run({"rollout"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(Has(run.out, "40 of 40 clients up to date, 0 outdated; rollout complete\n"))
      << run.out;
}

TEST_F(CtlUpgradesTest, RolloutShowsAHaltAndHowToContinue) {
  json halted = kRollout;
  halted["scopes"]["jump-client"]["gate"] = {
      {"phase", "halted"}, {"halt_reason", "2 of 2 ended upgrades failed (threshold 2)"}};
  loop_.Sync([&] { Serve("rollout", halted); });
  Outcome run = Run({"rollout"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(Has(run.out, "  jump-client halted: 2 of 2 ended upgrades failed (threshold 2); "
                           "sluicectl rollout resume|abort --kind jump-client\n"))
      << run.out;
  EXPECT_TRUE(Has(run.out, "jump-client  4        4      6        halted  ")) << run.out;
}

TEST_F(CtlUpgradesTest, RolloutGateCommandsSendTheirArguments) {
  json gate = {{"kind", "jump-client"}, {"phase", "open"}, {"canary", "5%"}, {"halt_after", "2"}};
  loop_.Sync([&] {
    Serve("rollout-canary", gate);
    Serve("rollout-resume", gate);
  });
  Outcome set = Run({"rollout", "canary", "--kind", "jump-client", "--wave", "5%",
                     "--halt-after", "2"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(set.out, "jump-client: open (canary wave 5%, halt after 2)\n");
  EXPECT_EQ(TakeReceived("rollout-canary"),
            json({{"kind", "jump-client"}, {"canary", "5%"}, {"halt_after", "2"}}));
  Outcome resume = Run({"rollout", "resume", "--kind", "jump-client"});
  ASSERT_EQ(resume.exit_code, 0) << resume.err;
  EXPECT_EQ(TakeReceived("rollout-resume"), json({{"kind", "jump-client"}}));
  EXPECT_EQ(Run({"rollout", "canary", "--kind", "integration-client"}).exit_code, 64);
}

TEST_F(CtlUpgradesTest, RolloutSaysWhatItCannotForecast) {
  json unsure = kRollout;
  unsure["forecast"] = {{"to_90_s", 60},
                        {"to_100_s", nullptr},
                        {"unknown", {"1 passive clients have not checked in since the version "
                                     "change (they check in at least every 14400 s)"}}};
  unsure["estimated_completion_s"] = nullptr;
  loop_.Sync([&] { Serve("rollout", unsure); });
  Outcome run = Run({"rollout"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(Has(run.out, "10 outdated; 90 % in 1m, all unknown\n")) << run.out;
  EXPECT_TRUE(Has(run.out, "  forecast: 1 passive clients have not checked in since the version "
                           "change (they check in at least every 14400 s)\n"))
      << run.out;
}

TEST_F(CtlUpgradesTest, AuditForHumans) {
  Outcome run = Run({"audit"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(TakeReceived("audit"), json::object());
  EXPECT_TRUE(Has(run.out, "SEQ  TIME  ")) << run.out;
  EXPECT_TRUE(Has(run.out, "1    2026-11-25T08:00:00Z  grant             jump-client  c-0001  3"))
      << run.out;
  EXPECT_TRUE(Has(run.out, "2.0.0    1/4")) << run.out;
  EXPECT_TRUE(Has(run.out,
                  "bandwidth_change  -            -       -      -        -        "
                  "10485760\n"))
      << run.out;
  Outcome as_json = Run({"audit", "--json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_EQ(json::parse(as_json.out), kAudit);
  loop_.Sync([&] { Serve("audit", {{"events", json::array()}}); });
  EXPECT_EQ(Run({"audit"}).out, "(no events)\n");
}

TEST_F(CtlUpgradesTest, AuditSinceAbsoluteTimes) {
  using namespace std::chrono;
  const int64_t day_ms =
      duration_cast<milliseconds>(sys_days{year{2026} / November / 25}.time_since_epoch()).count();
  ASSERT_EQ(Run({"audit", "--since", "2026-11-25T08:00:00Z", "--limit", "5"}).exit_code, 0);
  EXPECT_EQ(TakeReceived("audit"), json({{"since_ms", day_ms + 8 * 3'600'000}, {"limit", 5}}));
  ASSERT_EQ(Run({"audit", "--since", "2026-11-25"}).exit_code, 0);
  EXPECT_EQ(TakeReceived("audit"), json({{"since_ms", day_ms}}));
}

TEST_F(CtlUpgradesTest, AuditFiltersByEventKindAndClient) {
  ASSERT_EQ(Run({"audit", "--event", "grant", "--kind", "jumpoint", "--client", "c-7"}).exit_code,
            0);
  EXPECT_EQ(TakeReceived("audit"),
            json({{"event", "grant"}, {"scope", "jumpoint"}, {"client_id", "c-7"}}));
  ASSERT_EQ(Run({"audit", "--event", "admin_add"}).exit_code, 0);
  EXPECT_EQ(TakeReceived("audit"), json({{"event", "admin_add"}}));
}

TEST_F(CtlUpgradesTest, AuditSinceRelativeDurations) {
  const std::vector<std::pair<std::string, int64_t>> cases = {{"30s", 30'000},
                                                              {"10m", 600'000},
                                                              {"2h", 7'200'000},
                                                              {"1d", 86'400'000},
                                                              {"1h30m", 5'400'000}};
  for (const auto& [text, ago_ms] : cases) {
    const int64_t before = NowMs();
    ASSERT_EQ(Run({"audit", "--since", text}).exit_code, 0) << text;
    const int64_t after = NowMs();
    auto args = TakeReceived("audit");
    ASSERT_TRUE(args && args->contains("since_ms")) << text;
    const int64_t since = args->at("since_ms").get<int64_t>();
    EXPECT_GE(since, before - ago_ms) << text;
    EXPECT_LE(since, after - ago_ms) << text;
  }
}

TEST_F(CtlUpgradesTest, AuditArgumentErrorsExit64) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"audit", "--since", "yesterday"},
                                             {"audit", "--since", "10"},
                                             {"audit", "--since", "10y"},
                                             {"audit", "--since", "2026-13-01"},
                                             {"audit", "--since", "2026-11-25T08:00:00"},
                                             {"audit", "--limit", "0"},
                                             {"audit", "--limit", "x"}}) {
    Outcome run = Run(args);
    EXPECT_EQ(run.exit_code, 64) << args[2];
  }
  EXPECT_EQ(TakeReceived("audit"), std::nullopt);
}

TEST_F(CtlUpgradesTest, HelpListsTheThrottleCommands) {
  Outcome help = Run({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* command : {"limits", "policy", "upgrade", "rollout", "audit"}) {
    EXPECT_TRUE(Has(help.out, command)) << command;
  }
}

}  // namespace
}  // namespace sluice::ctl
