#include "server/installer/installer_repo.h"

#include <gtest/gtest.h>

#include "server/store/store.h"
#include "tests/support/temp_dir.h"

namespace sluice::server {
namespace {

InstallerRecord Sample(const std::string& id) {
  return InstallerRecord{.id = id,
                         .created_ms = 1000,
                         .creator = "admin",
                         .kind = "jump-client",
                         .mode = "passive",
                         .jump_group = "Servers",
                         .tag = "rack-4",
                         .comments = "lab",
                         .overrides = {"mode", "tag"},
                         .upgrade_code = "6F0C3B1E-2A57-4C8E-9D41-5B7A0E2C1D01",
                         .build = {.site_version = "1.0.0",
                                   .product_code = "{AAAAAAAA-0000-0000-0000-000000000001}",
                                   .product_version = "1.0.0",
                                   .file = "/data/installers/" + id + "/a.msi",
                                   .key_info = "SLK1.a.b",
                                   .built_ms = 1000,
                                   .expires_ms = 5000},
                         .deleted = false,
                         .enrolled_clients = 0};
}

class InstallerRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::Store::Open(
        {.path = dir_ / "sluice.db", .post_to_loop = [](std::function<void()> task) { task(); }});
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
  }
  template <class T>
  Result<T> Call(std::function<Result<T>(db::Database&)> job) {
    return store_->Call<T>(std::move(job));
  }

  sluice::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(InstallerRepoTest, RecordsSurviveAndRebuildsArchiveTheOldMsi) {
  ASSERT_TRUE(Call<void>([](db::Database& db) { return InsertInstaller(db, Sample("inst-1")); }));
  auto duplicate =
      Call<void>([](db::Database& db) { return InsertInstaller(db, Sample("inst-1")); });
  ASSERT_FALSE(duplicate.has_value());
  EXPECT_EQ(duplicate.error().code(), Errc::kAlreadyExists);

  auto found = Call<std::optional<InstallerRecord>>(
      [](db::Database& db) { return FindInstaller(db, "inst-1"); });
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->jump_group, "Servers");
  EXPECT_EQ((*found)->overrides, (std::vector<std::string>{"mode", "tag"}));
  EXPECT_EQ((*found)->build.product_code, "{AAAAAAAA-0000-0000-0000-000000000001}");

  InstallerBuild next = Sample("inst-1").build;
  next.site_version = "2.0.0";
  next.product_version = "2.0.0";
  next.product_code = "{AAAAAAAA-0000-0000-0000-000000000002}";
  // A rebuild based on a stale ProductCode changes nothing.
  auto stale = Call<bool>([next](db::Database& db) {
    return ReplaceInstallerBuild(db, "inst-1", "{STALE}", next, "site-version", 2000);
  });
  ASSERT_TRUE(stale.has_value());
  EXPECT_FALSE(*stale);
  auto replaced = Call<bool>([next](db::Database& db) {
    return ReplaceInstallerBuild(db, "inst-1", "{AAAAAAAA-0000-0000-0000-000000000001}", next,
                                 "site-version", 2000);
  });
  ASSERT_TRUE(replaced.has_value() && *replaced);
  auto archive = Call<std::vector<ArchivedInstaller>>(
      [](db::Database& db) { return ListInstallerArchive(db); });
  ASSERT_TRUE(archive.has_value());
  ASSERT_EQ(archive->size(), 1u);
  EXPECT_EQ((*archive)[0].product_code, "{AAAAAAAA-0000-0000-0000-000000000001}");
  EXPECT_EQ((*archive)[0].site_version, "1.0.0");
  EXPECT_EQ((*archive)[0].reason, "site-version");

  ASSERT_TRUE(Call<void>([](db::Database& db) {
    return RecordInstallerEnrollment(db, "client-1", "inst-1", "Servers", "rack-9", 3000);
  }));
  auto live =
      Call<std::vector<InstallerRecord>>([](db::Database& db) { return ListInstallers(db); });
  ASSERT_TRUE(live.has_value());
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].build.site_version, "2.0.0");
  EXPECT_EQ((*live)[0].enrolled_clients, 1);

  // Deleting keeps the row (so its keys are refused as revoked) but lists it no more.
  auto deleted = Call<InstallerRecord>([](db::Database& db) {
    std::vector<ArchivedInstaller> archived;
    return DeleteInstaller(db, "inst-1", &archived);
  });
  ASSERT_TRUE(deleted.has_value());
  auto again = Call<InstallerRecord>(
      [](db::Database& db) { return DeleteInstaller(db, "inst-1", nullptr); });
  EXPECT_EQ(again.error().code(), Errc::kNotFound);
  found = Call<std::optional<InstallerRecord>>(
      [](db::Database& db) { return FindInstaller(db, "inst-1"); });
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_TRUE((*found)->deleted);
  live = Call<std::vector<InstallerRecord>>([](db::Database& db) { return ListInstallers(db); });
  EXPECT_TRUE(live->empty());
}

}  // namespace
}  // namespace sluice::server
