// Kills the update state machine between every pair of steps (through the test hooks), then
// reopens the state dir and recovers: every run must end applied or rolled back, with `current`
// naming an installed version (or absent) and the report pending.

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "client/update/updater.h"
#include "tests/client/update/update_fixture.h"

namespace sluice::client::testing {
namespace {

using proto::UpgradeOutcome;
using S = UpdateState;

struct CrashPoint {
  bool after_effect;  // false: right after the state is persisted, before its side effect
  UpdateState state;
  bool healthy;  // the new payload passes its health check
  bool fresh;    // a client never upgraded before (no `current` link yet)
};

std::string Name(const ::testing::TestParamInfo<CrashPoint>& info) {
  const CrashPoint& p = info.param;
  return std::string(p.after_effect ? "AfterEffectOf_" : "AfterPersisting_") +
         std::string(ToString(p.state)) + (p.healthy ? "_Healthy" : "_Unhealthy") +
         (p.fresh ? "_Fresh" : "_Upgraded");
}

std::vector<CrashPoint> AllCrashPoints() {
  std::vector<CrashPoint> points;
  for (bool fresh : {true, false}) {
    for (S s : {S::kDownloading, S::kVerifying, S::kStaging, S::kSwitched, S::kCheckingHealth,
                S::kDone}) {
      points.push_back({false, s, true, fresh});
    }
    for (S s : {S::kDownloading, S::kVerifying, S::kStaging, S::kSwitched, S::kCheckingHealth,
                S::kRollingBack, S::kRolledBack}) {
      points.push_back({false, s, false, fresh});
    }
    for (S s : {S::kVerifying, S::kStaging, S::kSwitched, S::kCheckingHealth}) {
      points.push_back({true, s, true, fresh});
      points.push_back({true, s, false, fresh});
    }
    points.push_back({true, S::kRollingBack, false, fresh});
  }
  return points;
}

class UpdateCrashTest : public UpdateTest, public ::testing::WithParamInterface<CrashPoint> {};

TEST_P(UpdateCrashTest, RecoversToAConsistentOutcome) {
  const CrashPoint& point = GetParam();
  if (!point.fresh) InstallAcknowledged("2.0.0", 1);
  const std::string previous = point.fresh ? "1.0.0" : "2.0.0";
  Package package =
      MakePackage("3.0.0", point.healthy ? HealthyPayload("3.0.0") : UnhealthyPayload("3.0.0"), 5);

  bool crashed = false;
  auto crash_at = [&](UpdateState state) {
    if (crashed || state != point.state) return true;
    crashed = true;
    return false;
  };
  {
    UpdaterOptions options = Options();
    (point.after_effect ? options.after_effect : options.after_persist) = crash_at;
    auto updater = OpenUpdater(options);
    ASSERT_TRUE(updater);
    if (auto offset = updater->BeginDownload(package.grant)) {
      Feed(*updater, package, *offset, package.payload.size(), 1000);
      updater->Apply();
    }
  }  // the process dies here
  ASSERT_TRUE(crashed);

  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  std::optional<proto::UpgradeResult> report = updater->Recover();
  if (!report) {
    // Killed while accepting the grant: the download resumes at the next grant.
    ASSERT_EQ(updater->record().state, S::kDownloading);
    auto offset = updater->BeginDownload(package.grant);
    ASSERT_TRUE(offset) << offset.error().ToString();
    Feed(*updater, package, *offset, package.payload.size(), 1000);
    report = updater->Apply();
  }
  ASSERT_TRUE(report);
  EXPECT_EQ(report->lease_id, 5u);
  EXPECT_EQ(report->version, "3.0.0");
  ExpectCurrentConsistent();
  EXPECT_TRUE(Downloads().empty());
  if (point.healthy) {
    EXPECT_EQ(report->outcome, UpgradeOutcome::kApplied) << report->detail;
    EXPECT_EQ(CurrentLink(), "versions/3.0.0");
    EXPECT_EQ(updater->CurrentVersion(), "3.0.0");
    EXPECT_EQ(ReadPayload("3.0.0"), package.payload);
  } else {
    EXPECT_EQ(report->outcome, UpgradeOutcome::kRolledBack) << report->detail;
    EXPECT_EQ(updater->CurrentVersion(), previous);
    EXPECT_EQ(CurrentLink(),
              point.fresh ? std::nullopt : std::optional<std::string>("versions/2.0.0"));
    EXPECT_EQ(Versions().count("3.0.0"), 0u);
  }
  EXPECT_EQ(updater->PendingReport(), report);
  updater->ReportDelivered(5);
  updater.reset();
  auto reopened = OpenUpdater();
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->Recover(), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(EveryStep, UpdateCrashTest, ::testing::ValuesIn(AllCrashPoints()), Name);

TEST_F(UpdateTest, HealthCheckThatKeepsKillingTheProcessEndsRolledBack) {
  const std::string counter = dir_ + "/health-runs";
  UpdaterOptions options = Options();
  options.health_check = {"/bin/sh", "-c", "echo run >> '" + counter + "'; exec \"$0\" --self-test",
                          "{payload}"};
  int crashes = 0;
  options.after_effect = [&](UpdateState state) {
    return state != S::kCheckingHealth || ++crashes > 3;
  };
  Package package = MakePackage("2.0.0", HealthyPayload("2.0.0"), 5);
  {
    auto updater = OpenUpdater(options);
    ASSERT_TRUE(updater);
    Install(*updater, package);
  }
  std::optional<proto::UpgradeResult> report;
  for (int restart = 0; restart < 5 && !report; ++restart) {
    auto updater = OpenUpdater(options);
    ASSERT_TRUE(updater);
    report = updater->Recover();
  }
  ASSERT_TRUE(report);
  EXPECT_EQ(report->outcome, UpgradeOutcome::kRolledBack);
  EXPECT_NE(report->detail.find("never completed"), std::string::npos) << report->detail;
  EXPECT_FALSE(CurrentLink());
  // Three attempts ran; the fourth start gave up without running the check again.
  EXPECT_EQ(ReadFile(counter).value_or(""), "run\nrun\nrun\n");
}

}  // namespace
}  // namespace sluice::client::testing
