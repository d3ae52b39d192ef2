#include "client/update/update_state.h"

#include <gtest/gtest.h>

namespace sluice::client {
namespace {

using S = UpdateState;
using E = UpdateEvent;

TEST(UpdateStateTest, HappyPathReachesDone) {
  S state = S::kIdle;
  for (E event : {E::kGrant, E::kApply, E::kStepOk, E::kStepOk, E::kStepOk, E::kHealthy}) {
    auto next = Transition(state, event);
    ASSERT_TRUE(next) << next.error().ToString();
    state = *next;
  }
  EXPECT_EQ(state, S::kDone);
  EXPECT_EQ(Transition(state, E::kReportDelivered), S::kIdle);
}

TEST(UpdateStateTest, FailuresAndRollback) {
  EXPECT_EQ(Transition(S::kVerifying, E::kStepFailed), S::kFailed);
  EXPECT_EQ(Transition(S::kStaging, E::kStepFailed), S::kFailed);
  EXPECT_EQ(Transition(S::kSwitched, E::kUnhealthy), S::kRollingBack);
  EXPECT_EQ(Transition(S::kCheckingHealth, E::kUnhealthy), S::kRollingBack);
  EXPECT_EQ(Transition(S::kRollingBack, E::kStepOk), S::kRolledBack);
  EXPECT_EQ(Transition(S::kRollingBack, E::kRollbackFailed), S::kFailed);
  EXPECT_EQ(Transition(S::kRolledBack, E::kReportDelivered), S::kIdle);
}

TEST(UpdateStateTest, GrantsAreRefusedMidApply) {
  for (S state : {S::kVerifying, S::kStaging, S::kSwitched, S::kCheckingHealth, S::kRollingBack}) {
    auto next = Transition(state, E::kGrant);
    ASSERT_FALSE(next) << ToString(state);
    EXPECT_EQ(next.error().code(), Errc::kInternal);
    EXPECT_TRUE(IsApplying(state));
    EXPECT_FALSE(IsFinished(state));
  }
  EXPECT_FALSE(Transition(S::kIdle, E::kApply));
  EXPECT_FALSE(Transition(S::kDownloading, E::kReportDelivered));
}

TEST(UpdateStateTest, NamesRoundTrip) {
  for (S state : {S::kIdle, S::kDownloading, S::kVerifying, S::kStaging, S::kSwitched,
                  S::kCheckingHealth, S::kRollingBack, S::kDone, S::kFailed, S::kRolledBack}) {
    EXPECT_EQ(ParseUpdateState(ToString(state)), state);
  }
  EXPECT_EQ(ParseUpdateState("switching"), std::nullopt);
  EXPECT_EQ(ToString(S::kCheckingHealth), "checking_health");
}

}  // namespace
}  // namespace sluice::client
