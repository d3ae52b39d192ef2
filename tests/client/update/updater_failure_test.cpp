// Refused grants, corrupt downloads and unhealthy payloads: the running version never changes.

#include <gtest/gtest.h>

#include "client/update/updater.h"
#include "tests/client/update/update_fixture.h"

namespace sluice::client::testing {
namespace {

using proto::UpgradeOutcome;

class UpdateFailureTest : public UpdateTest {
 protected:
  // A client upgraded to 2.0.0 (report delivered), as the baseline nothing may disturb.
  void SetUp() override {
    UpdateTest::SetUp();
    InstallAcknowledged("2.0.0", 1);
    versions_before_ = Versions();
    ASSERT_EQ(CurrentLink(), "versions/2.0.0");
  }
  void ExpectUntouched(Updater& updater) {
    EXPECT_EQ(Versions(), versions_before_);
    EXPECT_EQ(CurrentLink(), "versions/2.0.0");
    EXPECT_EQ(updater.CurrentVersion(), "2.0.0");
    EXPECT_TRUE(Downloads().empty());
    ExpectCurrentConsistent();
  }
  std::set<std::string> versions_before_;
};

TEST_F(UpdateFailureTest, WrongSignatureIsRefused) {
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  Package package = MakePackage("3.0.0", HealthyPayload("3.0.0"), 2);
  package.grant.signature[10] ^= 0x01;
  auto offset = updater->BeginDownload(package.grant);
  ASSERT_FALSE(offset);
  EXPECT_EQ(offset.error().code(), Errc::kCrypto);
  EXPECT_EQ(updater->record().state, UpdateState::kIdle);
  ExpectUntouched(*updater);
}

TEST_F(UpdateFailureTest, ManifestEditedAfterSigningIsRefused) {
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  Package package = MakePackage("3.0.0", HealthyPayload("3.0.0"), 2);
  std::string text(package.grant.manifest.begin(), package.grant.manifest.end());
  text.replace(text.find("3.0.0"), 5, "3.0.1");
  package.grant.manifest.assign(text.begin(), text.end());
  package.grant.version = "3.0.1";
  EXPECT_EQ(updater->BeginDownload(package.grant).error().code(), Errc::kCrypto);
  ExpectUntouched(*updater);
}

TEST_F(UpdateFailureTest, ManifestSignedByAnotherKeyIsRefused) {
  auto other = crypto::SigningKey::Generate();
  ASSERT_TRUE(other);
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  Package package = MakePackage("3.0.0", HealthyPayload("3.0.0"), 2, false, &*other);
  EXPECT_EQ(updater->BeginDownload(package.grant).error().code(), Errc::kCrypto);
  ExpectUntouched(*updater);
}

TEST_F(UpdateFailureTest, GrantVersionMustMatchTheManifest) {
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  Package package = MakePackage("3.0.0", HealthyPayload("3.0.0"), 2);
  package.grant.version = "4.0.0";
  EXPECT_EQ(updater->BeginDownload(package.grant).error().code(), Errc::kCorrupt);
  ExpectUntouched(*updater);
}

TEST_F(UpdateFailureTest, FlippedPayloadByteFailsVerification) {
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  Package package = MakePackage("3.0.0", HealthyPayload("3.0.0"), 2);
  package.payload[20] ^= 0x20;  // the manifest still describes the original bytes
  auto result = Install(*updater, package);
  EXPECT_EQ(result.outcome, UpgradeOutcome::kVerifyFailed);
  EXPECT_EQ(result.lease_id, 2u);
  EXPECT_NE(result.detail.find("SHA-256"), std::string::npos) << result.detail;
  ExpectUntouched(*updater);
  EXPECT_EQ(updater->PendingReport(), result);
}

TEST_F(UpdateFailureTest, TruncatedDownloadFailsVerification) {
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  Package package = MakePackage("3.0.0", HealthyPayload("3.0.0"), 2);
  ASSERT_EQ(updater->BeginDownload(package.grant), 0u);
  EXPECT_FALSE(Feed(*updater, package, 0, package.payload.size() - 5, 16));
  auto result = updater->Apply();
  EXPECT_EQ(result.outcome, UpgradeOutcome::kVerifyFailed);
  EXPECT_NE(result.detail.find("bytes"), std::string::npos) << result.detail;
  ExpectUntouched(*updater);
}

TEST_F(UpdateFailureTest, OversizedDownloadFailsVerification) {
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  Package package = MakePackage("3.0.0", HealthyPayload("3.0.0"), 2);
  ASSERT_EQ(updater->BeginDownload(package.grant), 0u);
  Bytes data = package.payload;
  data.insert(data.end(), {'e', 'x', 't', 'r', 'a'});
  auto added = updater->AddChunk({.lease_id = 2, .offset = 0, .data = data});
  ASSERT_TRUE(added);
  EXPECT_TRUE(*added);
  auto more = updater->AddChunk({.lease_id = 2, .offset = data.size(), .data = {1}});
  EXPECT_EQ(more.error().code(), Errc::kProtocol);
  auto result = updater->Apply();
  EXPECT_EQ(result.outcome, UpgradeOutcome::kVerifyFailed);
  ExpectUntouched(*updater);
}

TEST_F(UpdateFailureTest, DowngradeIsRefusedUnlessSigned) {
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  auto refused = updater->BeginDownload(MakePackage("1.5.0", HealthyPayload("1.5.0"), 2).grant);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(refused.error().message().find("downgrade"), std::string::npos);
  auto same = updater->BeginDownload(MakePackage("2.0", HealthyPayload("2.0"), 3).grant);
  EXPECT_EQ(same.error().code(), Errc::kInvalidArgument);  // 2.0 == 2.0.0
  ExpectUntouched(*updater);

  auto result = Install(*updater, MakePackage("1.5.0", HealthyPayload("1.5.0"), 4, true));
  EXPECT_EQ(result.outcome, UpgradeOutcome::kApplied) << result.detail;
  EXPECT_EQ(updater->CurrentVersion(), "1.5.0");
}

TEST_F(UpdateFailureTest, UnhealthyPayloadRollsBackToThePreviousVersion) {
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  auto result = Install(*updater, MakePackage("3.0.0", UnhealthyPayload("3.0.0"), 2));
  EXPECT_EQ(result.outcome, UpgradeOutcome::kRolledBack);
  EXPECT_NE(result.detail.find("status 1"), std::string::npos) << result.detail;
  EXPECT_NE(result.detail.find("no database"), std::string::npos) << result.detail;
  ExpectUntouched(*updater);
  EXPECT_EQ(updater->PendingReport(), result);
}

TEST_F(UpdateFailureTest, HangingHealthCheckIsKilledAndRolledBack) {
  UpdaterOptions options = Options();
  options.health_timeout = std::chrono::milliseconds(300);
  auto updater = OpenUpdater(options);
  ASSERT_TRUE(updater);
  auto result = Install(*updater, MakePackage("3.0.0", HangingPayload("3.0.0"), 2));
  EXPECT_EQ(result.outcome, UpgradeOutcome::kRolledBack);
  EXPECT_NE(result.detail.find("timed out"), std::string::npos) << result.detail;
  ExpectUntouched(*updater);
}

TEST_F(UpdateTest, UnhealthyPayloadOnAFreshClientRemovesCurrent) {
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  auto result = Install(*updater, MakePackage("2.0.0", UnhealthyPayload("2.0.0"), 2));
  EXPECT_EQ(result.outcome, UpgradeOutcome::kRolledBack);
  EXPECT_FALSE(CurrentLink());
  EXPECT_TRUE(Versions().empty());
  EXPECT_EQ(updater->CurrentVersion(), "1.0.0");
  EXPECT_EQ(updater->record().previous_version, "1.0.0");
}

TEST_F(UpdateTest, ConfiguredHealthCheckCommandIsUsed) {
  UpdaterOptions options = Options();
  // The payload itself would pass; this check inspects it and fails.
  options.health_check = {"/bin/sh", "-c", "grep -q never-there '{payload}'"};
  auto updater = OpenUpdater(options);
  ASSERT_TRUE(updater);
  auto result = Install(*updater, MakePackage("2.0.0", HealthyPayload("2.0.0"), 2));
  EXPECT_EQ(result.outcome, UpgradeOutcome::kRolledBack) << result.detail;
  EXPECT_FALSE(CurrentLink());
}

TEST_F(UpdateFailureTest, NewGrantAfterAFailureStartsAgain) {
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  ASSERT_EQ(Install(*updater, MakePackage("3.0.0", UnhealthyPayload("3.0.0"), 2)).outcome,
            UpgradeOutcome::kRolledBack);
  // The server granted again without acknowledging: the old report is replaced.
  auto result = Install(*updater, MakePackage("3.0.0", HealthyPayload("3.0.0"), 3));
  EXPECT_EQ(result.outcome, UpgradeOutcome::kApplied) << result.detail;
  EXPECT_EQ(CurrentLink(), "versions/3.0.0");
}

}  // namespace
}  // namespace sluice::client::testing
