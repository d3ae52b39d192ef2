// sluice-load end to end: the built sluice-load against the built sluiced. Asserts the
// invariants a run reports, never its timings.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace sluice::load {
namespace {

// The one JSON object sluice-load prints (stdout and stderr are interleaved in `output`).
nlohmann::json SummaryLine(const std::string& output) {
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.front() == '{') {
      auto parsed = nlohmann::json::parse(line, nullptr, false);
      if (!parsed.is_discarded()) return parsed;
    }
  }
  return nlohmann::json();
}

testing::RunResult RunLoad(std::vector<std::string> args) {
  args.insert(args.begin(), SLUICE_BIN_DIR "/sluice-load");
  args.push_back("--json");
  args.push_back("--no-progress");
  return testing::RunCommand(args, std::chrono::seconds(300));
}

// Paced check-ins (--pause-ms): 20 clients pausing at least 180 ms (200 +/- 10 %) make at most
// 2000 / 180 + 1 check-ins each in a 2 s window, however fast the server answers; back to back
// they would make thousands. Only that bound is asserted, never a rate the machine must reach.
TEST(CheckinLoadTest, APausedLoadStaysUnderItsPace) {
  auto run = RunLoad({"checkin", "--clients", "20", "--pause-ms", "200", "--duration-s", "2",
                      "--timeout-s", "120"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json summary = SummaryLine(run.output);
  ASSERT_TRUE(summary.is_object()) << run.output;
  EXPECT_EQ(summary["scenario"], "checkin");
  EXPECT_EQ(summary["pause_ms"], 200);
  for (const char* phase : {"full_handshake", "resumed"}) {
    SCOPED_TRACE(phase);
    EXPECT_GT(summary[phase]["checkins"].get<uint64_t>(), 0u);
    EXPECT_LE(summary[phase]["checkins_per_s"].get<double>(), 20 * (2000 / 180.0 + 1) / 2);
  }
}

TEST(RolloutLoadTest, MixedFleetConvergesAtExactlyTheLimit) {
  // Three hundred clients of two kinds, a fifth of them passive (told to come back), each kind
  // limited to 5 concurrent upgrades.
  auto run = RunLoad({"rollout", "--clients", "300", "--limit", "5", "--kinds",
                      "jump-client=3,jumpoint=1", "--active-share", "0.8", "--package-kib", "64",
                      "--apply-ms", "20", "--rate-kib", "0", "--timeout-s", "240",
                      "--server-arg=--min-retry-ms=300",
                      "--server-arg=--initial-upgrade-estimate-s=1"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json summary = SummaryLine(run.output);
  ASSERT_TRUE(summary.is_object()) << run.output;
  EXPECT_EQ(summary["scenario"], "rollout");
  EXPECT_EQ(summary["clients"], 300);
  EXPECT_EQ(summary["kinds"], 2);
  EXPECT_EQ(summary["converged"], 300);
  EXPECT_EQ(summary["failed"], 0);
  EXPECT_EQ(summary["timed_out"], false);
  EXPECT_EQ(summary["limit_violations"], 0);
  EXPECT_EQ(summary["audit_problems"], 0);
  EXPECT_EQ(summary["max_in_flight_audit"], 5);
  EXPECT_EQ(summary["max_in_flight_observed"], 5);
  EXPECT_GT(summary["ideal_makespan_s"].get<double>(), 0);
  EXPECT_GT(summary["makespan_s"].get<double>(), 0);
}

// The throttle's promise with passive clients: no slot idles while a client waits. 30 % of the
// fleet is passive, the server runs on its defaults (connection rate 50/s, hold window, initial
// estimate); utilization is the tool's own figure (ideal / makespan), not a wall-clock bound.
TEST(RolloutLoadTest, PassiveClientsKeepEverySlotBusy) {
  auto run = RunLoad({"rollout", "--clients", "300", "--limit", "10", "--active-share", "0.7",
                      "--package-kib", "64", "--apply-ms", "1000", "--rate-kib", "1024",
                      "--timeout-s", "240"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json summary = SummaryLine(run.output);
  ASSERT_TRUE(summary.is_object()) << run.output;
  EXPECT_EQ(summary["converged"], 300);
  EXPECT_NEAR(summary["active_clients"].get<int>(), 210, 1);  // the fleet rounds its shares
  EXPECT_EQ(summary["limit_violations"], 0);
  EXPECT_EQ(summary["audit_problems"], 0);
  EXPECT_EQ(summary["max_in_flight_audit"], 10);
  EXPECT_GE(summary["slot_utilization"].get<double>(), 0.9) << summary.dump();
  // The connection gate held: at most the rate plus its one-second burst in any second.
  EXPECT_LE(summary["connections_per_s_max"].get<double>(), 2 * 50 + 5) << summary.dump();
}

// A kill -9 halfway: leases and the queue survive, the limit holds, everybody converges.
TEST(RolloutLoadTest, PassiveRolloutSurvivesAKillNine) {
  auto run = RunLoad({"rollout", "--clients", "200", "--limit", "10", "--active-share", "0.7",
                      "--package-kib", "64", "--apply-ms", "500", "--rate-kib", "1024",
                      "--kill-at", "0.5", "--timeout-s", "240"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json summary = SummaryLine(run.output);
  ASSERT_TRUE(summary.is_object()) << run.output;
  EXPECT_EQ(summary["killed_at_upgraded"], 0.5);
  EXPECT_EQ(summary["converged"], 200);
  EXPECT_EQ(summary["limit_violations"], 0);
  EXPECT_EQ(summary["audit_problems"], 0);
  EXPECT_LE(summary["max_in_flight_audit"].get<int>(), 10);
}

TEST(StormLoadTest, EveryClientReconnectsAfterARestart) {
  auto run = RunLoad({"storm", "--clients", "150", "--connection-rate", "100", "--timeout-s",
                      "120"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json summary = SummaryLine(run.output);
  ASSERT_TRUE(summary.is_object()) << run.output;
  EXPECT_EQ(summary["reconnected"], 150);
  EXPECT_EQ(summary["timed_out"], false);
  EXPECT_EQ(summary["connection_rate_limit"], 100);
}

TEST(LoadToolTest, RefusesAFleetBeyondTheOpenFileLimit) {
  auto run = RunLoad({"idle", "--clients", "100000000", "--timeout-s", "5"});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("open files"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace sluice::load
