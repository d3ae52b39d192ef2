// StateDir::CurrentVersion and the Stager's `current` link; the --self-test helper.

#include <gtest/gtest.h>

#include <filesystem>

#include "client/state/state_dir.h"
#include "client/update/self_test.h"
#include "client/update/stager.h"
#include "common/base/file_util.h"

namespace sluice::client {
namespace {

class CurrentLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("sluice-current-");
    ASSERT_TRUE(dir);
    dir_ = *dir;
  }
  void TearDown() override { EXPECT_TRUE(RemoveAll(dir_)); }
  // versions/<v>/sluice-client with some content.
  void Install(const Stager& stager, const std::string& version) {
    const std::string part = dir_ + "/" + version + ".part";
    ASSERT_TRUE(WriteFileAtomic(part, "payload " + version));
    ASSERT_TRUE(stager.Stage(part, version));
  }
  std::string dir_;
};

TEST_F(CurrentLinkTest, CurrentVersionFollowsTheLink) {
  auto state = StateDir::Open(dir_);
  ASSERT_TRUE(state);
  Stager stager(dir_, "sluice-client");
  EXPECT_EQ(state->CurrentVersion("1.0.0"), "1.0.0");
  EXPECT_EQ(stager.CurrentTarget(), std::nullopt);
  Install(stager, "2.0.0");
  Install(stager, "3.0.0");
  ASSERT_TRUE(stager.Switch("2.0.0"));
  EXPECT_EQ(state->CurrentVersion("1.0.0"), "2.0.0");
  ASSERT_TRUE(stager.Switch("3.0.0"));
  EXPECT_EQ(state->CurrentVersion("1.0.0"), "3.0.0");
  EXPECT_EQ(stager.CurrentTarget(), "3.0.0");
  EXPECT_EQ(ReadFile(dir_ + "/current/sluice-client").value_or(""), "payload 3.0.0");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/current.tmp"));
  ASSERT_TRUE(stager.RemoveCurrent());
  ASSERT_TRUE(stager.RemoveCurrent());  // idempotent
  EXPECT_EQ(state->CurrentVersion("1.0.0"), "1.0.0");
}

TEST_F(CurrentLinkTest, StageIsRepeatableAndSwitchNeedsTheFolder) {
  Stager stager(dir_, "sluice-client");
  Install(stager, "2.0.0");
  // Repeating the step after the move is a no-op success.
  EXPECT_TRUE(stager.Stage(dir_ + "/2.0.0.part", "2.0.0"));
  EXPECT_EQ(stager.Stage(dir_ + "/9.part", "9.0.0").error().code(), Errc::kNotFound);
  EXPECT_EQ(stager.Switch("4.0.0").error().code(), Errc::kNotFound);
  EXPECT_EQ(stager.Switch("..").error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(stager.CurrentTarget(), std::nullopt);
  Install(stager, "3.0.0");
  ASSERT_TRUE(stager.PruneExcept({"3.0.0"}));
  EXPECT_FALSE(stager.HasVersion("2.0.0"));
  EXPECT_TRUE(stager.HasVersion("3.0.0"));
}

TEST(VersionNameTest, RejectsPathTricks) {
  EXPECT_TRUE(IsValidVersionName("24.3.1"));
  for (const char* bad : {"", ".", "..", "a/b", "/abs", "x\ny"}) {
    EXPECT_FALSE(IsValidVersionName(bad)) << bad;
  }
}

TEST(SelfTestTest, PassesInATestProcess) { EXPECT_EQ(RunSelfTest(), 0); }

}  // namespace
}  // namespace sluice::client
