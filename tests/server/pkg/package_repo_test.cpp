#include "server/pkg/package_repo.h"

#include <gtest/gtest.h>

#include "common/db/migrate.h"
#include "common/pkg/manifest.h"
#include "server/pkg/package_import.h"
#include "server/store/schema.h"
#include "tests/server/pkg/pkg_test_util.h"
#include "tests/server/store/migrated_db_test.h"
#include "tests/server/test_times.h"

namespace sluice::server {
namespace {

using sluice::testing::TempDir;
using testing::PackageBytes;
using testing::WriteTestFile;

using sluice::testing::kNow;

class PackageRepoTest : public store::testing::MigratedDbTest {
 protected:
  void SetUp() override {
    MigratedDbTest::SetUp();
    if (HasFatalFailure()) return;
    auto key = crypto::SigningKey::Generate();
    ASSERT_TRUE(key);
    key_.emplace(std::move(*key));
  }

  // A real import of `content` as jump-client/linux-x86_64/`version`.
  PackageRecord Imported(const std::string& content, const std::string& version = "2.0.0",
                         bool allow_downgrade = false, int64_t now_ms = kNow,
                         const std::string& kind = "jump-client") {
    const std::string source = WriteTestFile(dir_ / "source.bin", content);
    auto record = ImportPackage(dir_ / "packages", source,
                                {.kind = kind,
                                 .platform = "linux-x86_64",
                                 .version = version,
                                 .allow_downgrade = allow_downgrade},
                                *key_, now_ms);
    EXPECT_TRUE(record) << record.error().ToString();
    return record.value_or(PackageRecord{});
  }

  std::optional<crypto::SigningKey> key_;
};

TEST_F(PackageRepoTest, InsertedPackageReadsBackIdentically) {
  const PackageRecord record = Imported(PackageBytes(10'000, 1));
  ASSERT_TRUE(InsertPackage(*db_, record));

  auto found = FindPackage(*db_, "jump-client", "linux-x86_64", "2.0.0");
  ASSERT_TRUE(found) << found.error().ToString();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, record);
  // The stored manifest still verifies.
  EXPECT_TRUE(pkg::VerifyManifest((*found)->manifest, (*found)->signature, key_->PublicKey()));

  auto all = ListPackages(*db_);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, std::vector<PackageRecord>{record});
}

TEST_F(PackageRepoTest, MissingPackageIsNullopt) {
  auto found = FindPackage(*db_, "jump-client", "linux-x86_64", "9.9");
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value());
  auto all = ListPackages(*db_);
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());
}

TEST_F(PackageRepoTest, AddingTheSameFileAgainIsANoOp) {
  const std::string content = PackageBytes(2000, 2);
  const PackageRecord first = Imported(content);
  ASSERT_TRUE(InsertPackage(*db_, first));
  const PackageRecord again = Imported(content, "2.0.0", false, kNow + 60'000);
  ASSERT_NE(again.manifest, first.manifest);  // a later created_ms

  ASSERT_TRUE(InsertPackage(*db_, again));
  auto found = FindPackage(*db_, "jump-client", "linux-x86_64", "2.0.0");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ(**found, first) << "the first record stays";
}

TEST_F(PackageRepoTest, DifferentFileUnderTheSameVersionIsRefused) {
  const PackageRecord first = Imported(PackageBytes(2000, 3));
  ASSERT_TRUE(InsertPackage(*db_, first));

  auto refused = InsertPackage(*db_, Imported(PackageBytes(2000, 4)));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::kAlreadyExists);
  EXPECT_NE(refused.error().message().find("jump-client linux-x86_64 2.0.0"), std::string::npos)
      << refused.error().message();

  auto found = FindPackage(*db_, "jump-client", "linux-x86_64", "2.0.0");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ(**found, first);
}

TEST_F(PackageRepoTest, SameFileWithAnotherDowngradeFlagIsRefused) {
  const std::string content = PackageBytes(2000, 5);
  ASSERT_TRUE(InsertPackage(*db_, Imported(content)));
  auto refused = InsertPackage(*db_, Imported(content, "2.0.0", /*allow_downgrade=*/true));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::kAlreadyExists);
  EXPECT_NE(refused.error().message().find("allow_downgrade"), std::string::npos);
}

TEST_F(PackageRepoTest, ListIsOrderedByKindPlatformAndNumericVersion) {
  for (const char* version : {"1.10.0", "2.0", "1.9.3"}) {
    ASSERT_TRUE(InsertPackage(*db_, Imported(PackageBytes(100, 6), version)));
  }
  ASSERT_TRUE(InsertPackage(*db_, Imported(PackageBytes(100, 7), "1.0", false, kNow, "jumpoint")));
  ASSERT_TRUE(
      InsertPackage(*db_, Imported(PackageBytes(100, 8), "1.0", false, kNow, "access-console")));

  auto all = ListPackages(*db_);
  ASSERT_TRUE(all);
  std::vector<std::string> order;
  for (const auto& record : *all) order.push_back(record.kind + "/" + record.version);
  EXPECT_EQ(order,
            (std::vector<std::string>{"access-console/1.0", "jump-client/1.9.3",
                                      "jump-client/1.10.0", "jump-client/2.0", "jumpoint/1.0"}));
}

TEST_F(PackageRepoTest, PackagesSurviveReopen) {
  const PackageRecord record = Imported(PackageBytes(3000, 9));
  ASSERT_TRUE(InsertPackage(*db_, record));
  db_.reset();
  auto db = db::Database::Open(dir_ / "server.db");
  ASSERT_TRUE(db);
  ASSERT_TRUE(db::Migrate(**db, store::Migrations()));
  auto found = FindPackage(**db, "jump-client", "linux-x86_64", "2.0.0");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ(**found, record);
}

}  // namespace
}  // namespace sluice::server
