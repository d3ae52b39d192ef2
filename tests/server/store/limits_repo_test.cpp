#include "server/store/limits_repo.h"

#include <gtest/gtest.h>

#include "common/db/migrate.h"
#include "server/store/schema.h"
#include "server/store/settings_repo.h"
#include "tests/server/store/migrated_db_test.h"

namespace sluice::store {
namespace {

using sluice::testing::TempDir;

class LimitsRepo : public store::testing::MigratedDbTest {};

TEST_F(LimitsRepo, ScopeLimitsAreStoredAndReplaced) {
  auto empty = LoadLimits(*db_);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty()) << "scopes never set run on the default";
  ASSERT_TRUE(SaveLimit(*db_, "jump-client", 20));
  ASSERT_TRUE(SaveLimit(*db_, "jumpoint", 5));
  ASSERT_TRUE(SaveLimit(*db_, "jump-client", 3));
  Reopen();
  auto limits = LoadLimits(*db_);
  ASSERT_TRUE(limits);
  EXPECT_EQ(*limits, (std::map<std::string, int>{{"jump-client", 3}, {"jumpoint", 5}}));
}

TEST_F(LimitsRepo, BadLimitsAreRefused) {
  for (auto [scope, n] : {std::pair{"jump-client", 0}, {"jump-client", -4}, {"", 5}}) {
    auto saved = SaveLimit(*db_, scope, n);
    ASSERT_FALSE(saved) << scope << " " << n;
    EXPECT_EQ(saved.error().code(), Errc::kInvalidArgument);
  }
  EXPECT_TRUE(LoadLimits(*db_)->empty());
}

TEST_F(LimitsRepo, GlobalKnobsDefaultThenPersist) {
  EXPECT_EQ(GetBandwidthBytesPerS(*db_).value(), 0) << "unlimited";
  EXPECT_EQ(GetConnectionRatePerS(*db_).value(), 50);
  EXPECT_EQ(GetConnectionRatePerS(*db_, 7).value(), 7) << "caller's fallback";
  ASSERT_TRUE(SetBandwidthBytesPerS(*db_, 10LL << 20));
  ASSERT_TRUE(SetConnectionRatePerS(*db_, 200));
  Reopen();
  EXPECT_EQ(GetBandwidthBytesPerS(*db_).value(), 10LL << 20);
  EXPECT_EQ(GetConnectionRatePerS(*db_).value(), 200);
  EXPECT_EQ(GetSetting(*db_, "bandwidth_bytes_per_s").value(), "10485760");
  EXPECT_EQ(GetSetting(*db_, "connection_rate_per_s").value(), "200");
  // Back to unlimited.
  ASSERT_TRUE(SetBandwidthBytesPerS(*db_, 0));
  EXPECT_EQ(GetBandwidthBytesPerS(*db_).value(), 0);
}

TEST_F(LimitsRepo, OutOfRangeKnobsAreRefusedAndGarbageIsReportedCorrupt) {
  auto negative = SetBandwidthBytesPerS(*db_, -1);
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().code(), Errc::kInvalidArgument);
  EXPECT_FALSE(SetConnectionRatePerS(*db_, -5));
  auto zero = SetConnectionRatePerS(*db_, 0);
  ASSERT_FALSE(zero) << "a connection rate has no 'unlimited'";
  EXPECT_EQ(zero.error().code(), Errc::kInvalidArgument);
  ASSERT_TRUE(SetSetting(*db_, "connection_rate_per_s", "fast"));
  auto garbage = GetConnectionRatePerS(*db_);
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code(), Errc::kCorrupt);
  ASSERT_TRUE(SetSetting(*db_, "bandwidth_bytes_per_s", "-3"));
  EXPECT_FALSE(GetBandwidthBytesPerS(*db_));
}

TEST_F(LimitsRepo, LearnedDurationsPersistAndGarbageIsSkipped) {
  auto empty = LoadDurations(*db_);
  ASSERT_TRUE(empty) << empty.error().ToString();
  EXPECT_TRUE(empty->empty());
  ASSERT_TRUE(SaveDuration(*db_, "jump-client", {.estimate_ms = 61'250, .samples = 34}));
  ASSERT_TRUE(SaveDuration(*db_, "jumpoint", {.estimate_ms = 0, .samples = 0}));
  EXPECT_FALSE(SaveDuration(*db_, "", {.estimate_ms = 1, .samples = 1}));
  EXPECT_FALSE(SaveDuration(*db_, "jump-client", {.estimate_ms = -1, .samples = 1}));
  ASSERT_TRUE(SetSetting(*db_, "duration.access-console", "soon"));
  ASSERT_TRUE(SetSetting(*db_, "duration.connection-agent", "12 3 4"));
  Reopen();
  auto loaded = LoadDurations(*db_);
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(*loaded, (std::map<std::string, DurationRecord>{
                         {"jump-client", {.estimate_ms = 61'250, .samples = 34}},
                         {"jumpoint", {.estimate_ms = 0, .samples = 0}}}));
}

TEST_F(LimitsRepo, AdaptiveRangesPersistUntilTheLimitIsFixedAgain) {
  EXPECT_TRUE(LoadAdaptive(*db_)->empty());
  const AdaptiveSetting setting{.min = 4, .max = 200, .checkin_p99_target_ms = 250};
  ASSERT_TRUE(SaveAdaptive(*db_, "jumpoint", setting));
  Reopen();
  auto loaded = LoadAdaptive(*db_);
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ(loaded->at("jumpoint"), setting);
  ASSERT_TRUE(SaveAdaptive(*db_, "jumpoint", std::nullopt));
  EXPECT_TRUE(LoadAdaptive(*db_)->empty());
}

TEST_F(LimitsRepo, BadAdaptiveRangesAreRefusedOrReportedCorrupt) {
  for (const AdaptiveSetting& bad : {AdaptiveSetting{.min = 0, .max = 5},
                                     AdaptiveSetting{.min = 6, .max = 5},
                                     AdaptiveSetting{.min = 1, .max = 5, .checkin_p99_target_ms = 0}}) {
    auto saved = SaveAdaptive(*db_, "jumpoint", bad);
    ASSERT_FALSE(saved);
    EXPECT_EQ(saved.error().code(), Errc::kInvalidArgument);
  }
  EXPECT_EQ(SaveAdaptive(*db_, "", std::nullopt).error().code(), Errc::kInvalidArgument);
  ASSERT_TRUE(SetSetting(*db_, "adaptive.jumpoint", "4 two 500"));
  auto loaded = LoadAdaptive(*db_);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), Errc::kCorrupt);
  EXPECT_NE(loaded.error().message().find("adaptive.jumpoint"), std::string::npos);
}

TEST_F(LimitsRepo, PolicyNamesRoundTrip) {
  for (auto policy :
       {UpgradePolicy::kDisabled, UpgradePolicy::kThisVersionOnly, UpgradePolicy::kAlways}) {
    EXPECT_EQ(ParseUpgradePolicy(UpgradePolicyName(policy)), policy);
  }
  EXPECT_EQ(UpgradePolicyName(UpgradePolicy::kThisVersionOnly), "this-version-only");
  EXPECT_EQ(ParseUpgradePolicy("sometimes"), std::nullopt);
  EXPECT_EQ(ParseUpgradePolicy("Always"), std::nullopt);
}

TEST_F(LimitsRepo, PoliciesPerKindDefaultToAlwaysAndPersist) {
  EXPECT_EQ(GetPolicy(*db_, "jump-client").value(), PolicySetting{});
  EXPECT_EQ(GetPolicy(*db_, "jump-client")->mode, UpgradePolicy::kAlways);
  ASSERT_TRUE(SetPolicy(*db_, "jump-client", {UpgradePolicy::kThisVersionOnly, "2.0.0"}));
  ASSERT_TRUE(SetPolicy(*db_, "jumpoint", {UpgradePolicy::kDisabled, ""}));
  Reopen();
  EXPECT_EQ(GetPolicy(*db_, "jump-client").value(),
            (PolicySetting{UpgradePolicy::kThisVersionOnly, "2.0.0"}));
  EXPECT_EQ(GetPolicy(*db_, "jumpoint")->mode, UpgradePolicy::kDisabled);
  EXPECT_EQ(GetSetting(*db_, "policy.jump-client").value(), "this-version-only");
  EXPECT_EQ(GetSetting(*db_, "policy_version.jump-client").value(), "2.0.0");
  auto all = LoadPolicies(*db_);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, (std::map<std::string, PolicySetting>{
                      {"jump-client", {UpgradePolicy::kThisVersionOnly, "2.0.0"}},
                      {"jumpoint", {UpgradePolicy::kDisabled, ""}}}));
  // Back to always.
  ASSERT_TRUE(SetPolicy(*db_, "jump-client", {UpgradePolicy::kAlways, ""}));
  EXPECT_EQ(GetPolicy(*db_, "jump-client").value(), PolicySetting{});
}

TEST_F(LimitsRepo, BadPoliciesAreRefusedOrReportedCorrupt) {
  auto no_version = SetPolicy(*db_, "jump-client", {UpgradePolicy::kThisVersionOnly, ""});
  ASSERT_FALSE(no_version);
  EXPECT_EQ(no_version.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(GetSetting(*db_, "policy.jump-client").value(), std::nullopt) << "nothing half-set";
  EXPECT_FALSE(SetPolicy(*db_, "", {}));
  ASSERT_TRUE(SetSetting(*db_, "policy.jumpoint", "sometimes"));
  auto corrupt = GetPolicy(*db_, "jumpoint");
  ASSERT_FALSE(corrupt);
  EXPECT_EQ(corrupt.error().code(), Errc::kCorrupt);
  EXPECT_FALSE(LoadPolicies(*db_));
}

}  // namespace
}  // namespace sluice::store
