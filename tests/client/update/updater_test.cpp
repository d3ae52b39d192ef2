#include "client/update/updater.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/client/update/update_fixture.h"

namespace sluice::client::testing {
namespace {

using proto::UpgradeOutcome;

Bytes BigPayload(const std::string& version, size_t size) {
  Bytes payload = HealthyPayload(version);
  // Shell comment lines pad the script to `size` bytes without changing what it does.
  while (payload.size() < size) {
    std::string line = "# padding " + std::to_string(payload.size()) + "\n";
    payload.insert(payload.end(), line.begin(), line.end());
  }
  payload.resize(size);
  payload.back() = '\n';
  return payload;
}

TEST_F(UpdateTest, FreshClientRunsItsInstalledVersion) {
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  EXPECT_EQ(updater->CurrentVersion(), "1.0.0");
  EXPECT_EQ(updater->Recover(), std::nullopt);
  EXPECT_EQ(updater->PendingReport(), std::nullopt);
  EXPECT_FALSE(CurrentLink());
}

TEST_F(UpdateTest, FullApplySwitchesCurrent) {
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  Package package = MakePackage("2.0.0", HealthyPayload("2.0.0"), 7);
  auto result = Install(*updater, package);
  EXPECT_EQ(
      result,
      (proto::UpgradeResult{
          .lease_id = 7, .version = "2.0.0", .outcome = UpgradeOutcome::kApplied, .detail = ""}));
  EXPECT_EQ(CurrentLink(), "versions/2.0.0");
  EXPECT_EQ(updater->CurrentVersion(), "2.0.0");
  EXPECT_EQ(ReadPayload("2.0.0"), package.payload);
  struct stat st {};
  ASSERT_EQ(::stat((StateDir() + "/versions/2.0.0/sluice-client").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_TRUE(Downloads().empty());
  EXPECT_EQ(updater->PendingReport(), result);
  ExpectCurrentConsistent();
}

TEST_F(UpdateTest, ChunksOfManySizesProduceTheSamePackage) {
  const Bytes payload = BigPayload("2.0.0", 300'000);
  uint64_t lease = 10;
  for (size_t chunk : {size_t{1} << 0, size_t{7}, size_t{4096}, size_t{65'536},
                       proto::kMaxChunkBytes, size_t{300'000}}) {
    SCOPED_TRACE(chunk);
    ASSERT_TRUE(RemoveAll(StateDir()));
    auto updater = OpenUpdater();
    ASSERT_TRUE(updater);
    Package package = MakePackage("2.0.0", payload, ++lease);
    // Byte-sized chunks over 300 KB would be slow; cover them on a prefix, then go big.
    if (chunk == 1) {
      ASSERT_EQ(updater->BeginDownload(package.grant), 0u);
      EXPECT_FALSE(Feed(*updater, package, 0, 5000, 1));
      EXPECT_TRUE(Feed(*updater, package, 5000, payload.size(), 100'000));
      EXPECT_EQ(updater->Apply().outcome, UpgradeOutcome::kApplied);
    } else {
      EXPECT_EQ(Install(*updater, package, chunk).outcome, UpgradeOutcome::kApplied);
    }
    EXPECT_EQ(ReadPayload("2.0.0"), payload);
  }
}

TEST_F(UpdateTest, ChunkAtTheWrongOffsetOrLeaseIsAProtocolError) {
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  Package package = MakePackage("2.0.0", BigPayload("2.0.0", 10'000), 3);
  EXPECT_EQ(updater->AddChunk({.lease_id = 3, .offset = 0, .data = {1}}).error().code(),
            Errc::kProtocol);  // before any grant
  ASSERT_EQ(updater->BeginDownload(package.grant), 0u);
  ASSERT_FALSE(Feed(*updater, package, 0, 1000, 1000));
  auto gap = updater->AddChunk({.lease_id = 3, .offset = 2000, .data = {1, 2}});
  ASSERT_FALSE(gap);
  EXPECT_EQ(gap.error().code(), Errc::kProtocol);
  auto replay = updater->AddChunk({.lease_id = 3, .offset = 0, .data = {1, 2}});
  EXPECT_EQ(replay.error().code(), Errc::kProtocol);
  auto other = updater->AddChunk({.lease_id = 4, .offset = 1000, .data = {1, 2}});
  EXPECT_EQ(other.error().code(), Errc::kProtocol);
  // The refused chunks changed nothing: the rest completes a valid package.
  EXPECT_TRUE(Feed(*updater, package, 1000, 10'000, 3000));
  EXPECT_EQ(updater->Apply().outcome, UpgradeOutcome::kApplied);
}

TEST_F(UpdateTest, ResumesAfterCrashMidDownload) {
  Package package = MakePackage("2.0.0", BigPayload("2.0.0", 200'000), 5);
  {
    auto updater = OpenUpdater();
    ASSERT_TRUE(updater);
    ASSERT_EQ(updater->BeginDownload(package.grant), 0u);
    EXPECT_FALSE(Feed(*updater, package, 0, 123'456, 10'000));
  }  // the process "dies"
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  EXPECT_EQ(updater->Recover(), std::nullopt);  // a download is not an outcome
  auto offset = updater->BeginDownload(package.grant);
  ASSERT_TRUE(offset) << offset.error().ToString();
  EXPECT_EQ(*offset, 123'456u);
  EXPECT_TRUE(Feed(*updater, package, *offset, package.payload.size(), 50'000));
  EXPECT_EQ(updater->Apply().outcome, UpgradeOutcome::kApplied);
  EXPECT_EQ(ReadPayload("2.0.0"), package.payload);
}

TEST_F(UpdateTest, NewLeaseForTheSamePackageReusesThePartialFile) {
  Bytes payload = BigPayload("2.0.0", 50'000);
  Package first = MakePackage("2.0.0", payload, 5);
  Package second = MakePackage("2.0.0", payload, 6);
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  ASSERT_EQ(updater->BeginDownload(first.grant), 0u);
  Feed(*updater, first, 0, 20'000, 5000);
  EXPECT_EQ(updater->BeginDownload(second.grant), 20'000u);
  EXPECT_EQ(Downloads(), std::set<std::string>{"6.part"});
  EXPECT_TRUE(Feed(*updater, second, 20'000, payload.size(), 5000));
  auto result = updater->Apply();
  EXPECT_EQ(result.outcome, UpgradeOutcome::kApplied);
  EXPECT_EQ(result.lease_id, 6u);
}

TEST_F(UpdateTest, GrantForAnotherPackageStartsOver) {
  Package first = MakePackage("2.0.0", BigPayload("2.0.0", 50'000), 5);
  Package second = MakePackage("2.1.0", BigPayload("2.1.0", 40'000), 6);
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  ASSERT_EQ(updater->BeginDownload(first.grant), 0u);
  Feed(*updater, first, 0, 20'000, 5000);
  EXPECT_EQ(updater->BeginDownload(second.grant), 0u);
  EXPECT_EQ(Downloads(), std::set<std::string>{"6.part"});
  EXPECT_EQ(Install(*updater, second).outcome, UpgradeOutcome::kApplied);
  EXPECT_EQ(updater->CurrentVersion(), "2.1.0");
}

TEST_F(UpdateTest, ResumedDownloadThatIsAlreadyCompleteApplies) {
  Package package = MakePackage("2.0.0", HealthyPayload("2.0.0"), 5);
  {
    auto updater = OpenUpdater();
    ASSERT_TRUE(updater);
    ASSERT_EQ(updater->BeginDownload(package.grant), 0u);
    EXPECT_TRUE(Feed(*updater, package, 0, package.payload.size(), 4096));
  }
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  EXPECT_EQ(updater->BeginDownload(package.grant), package.payload.size());
  EXPECT_EQ(updater->Apply().outcome, UpgradeOutcome::kApplied);
}

TEST_F(UpdateTest, PendingReportSurvivesReopenUntilDelivered) {
  {
    auto updater = OpenUpdater();
    ASSERT_TRUE(updater);
    ASSERT_EQ(Install(*updater, MakePackage("2.0.0", HealthyPayload("2.0.0"), 9)).outcome,
              UpgradeOutcome::kApplied);
  }
  const proto::UpgradeResult expected{
      .lease_id = 9, .version = "2.0.0", .outcome = UpgradeOutcome::kApplied, .detail = ""};
  {
    auto updater = OpenUpdater();
    ASSERT_TRUE(updater);
    EXPECT_EQ(updater->Recover(), expected);
    EXPECT_EQ(updater->PendingReport(), expected);
    updater->ReportDelivered(8);  // another lease: ignored
    EXPECT_EQ(updater->PendingReport(), expected);
  }
  {
    auto updater = OpenUpdater();
    ASSERT_TRUE(updater);
    EXPECT_EQ(updater->PendingReport(), expected);
    updater->ReportDelivered(9);
    EXPECT_EQ(updater->PendingReport(), std::nullopt);
  }
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  EXPECT_EQ(updater->Recover(), std::nullopt);
  EXPECT_EQ(updater->CurrentVersion(), "2.0.0");
}

TEST_F(UpdateTest, RepeatedGrantForAFinishedLeaseGivesBackTheSameReport) {
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  Package package = MakePackage("2.0.0", HealthyPayload("2.0.0"), 9);
  auto applied = Install(*updater, package);
  ASSERT_EQ(applied.outcome, UpgradeOutcome::kApplied);
  // The server never got the report and grants the same lease again.
  EXPECT_EQ(updater->BeginDownload(package.grant), package.payload.size());
  EXPECT_EQ(updater->Apply(), applied);
  EXPECT_EQ(CurrentLink(), "versions/2.0.0");
}

TEST_F(UpdateTest, SecondUpgradeKeepsThePreviousVersionAndPrunesOlderOnes) {
  InstallAcknowledged("2.0.0", 1);
  InstallAcknowledged("3.0.0", 2);
  InstallAcknowledged("4.0.0", 3);
  EXPECT_EQ(Versions(), (std::set<std::string>{"3.0.0", "4.0.0"}));
  EXPECT_EQ(CurrentLink(), "versions/4.0.0");
}

TEST_F(UpdateTest, CorruptRecordIsSetAsideAndTreatedAsIdle) {
  ASSERT_TRUE(EnsureDir(StateDir(), 0700));
  ASSERT_TRUE(WriteFileAtomic(StateDir() + "/update.json", "{\"state\": \"switch"));
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  EXPECT_EQ(updater->record().state, UpdateState::kIdle);
  EXPECT_EQ(updater->Recover(), std::nullopt);
  EXPECT_EQ(ReadFile(StateDir() + "/update.json.corrupt").value_or(""), "{\"state\": \"switch");
  // And it still works.
  EXPECT_EQ(Install(*updater, MakePackage("2.0.0", HealthyPayload("2.0.0"), 1)).outcome,
            UpgradeOutcome::kApplied);
}

TEST_F(UpdateTest, DanglingCurrentLinkIsRemovedOnRecover) {
  InstallAcknowledged("2.0.0", 1);
  ASSERT_TRUE(RemoveAll(StateDir() + "/versions/2.0.0"));
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  updater->Recover();
  EXPECT_FALSE(CurrentLink());
  EXPECT_EQ(updater->CurrentVersion(), "1.0.0");
}

TEST_F(UpdateTest, OpenRejectsBadOptions) {
  UpdaterOptions options = Options();
  options.site_public_key.pop_back();
  EXPECT_EQ(Updater::Open(options).error().code(), Errc::kInvalidArgument);
  options = Options();
  options.health_check.clear();
  EXPECT_EQ(Updater::Open(options).error().code(), Errc::kInvalidArgument);
  options = Options();
  options.payload_name = "../escape";
  EXPECT_EQ(Updater::Open(options).error().code(), Errc::kInvalidArgument);
}

TEST_F(UpdateTest, ApplyWithoutDownloadFailsWithoutSideEffects) {
  auto updater = OpenUpdater();
  ASSERT_TRUE(updater);
  EXPECT_EQ(updater->Apply().outcome, UpgradeOutcome::kApplyFailed);
  EXPECT_EQ(updater->PendingReport(), std::nullopt);
}

}  // namespace
}  // namespace sluice::client::testing
