// The update source: scanning a directory of real bundle files, and choosing what a site needs.

#include "server/update/update_source.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace sluice::server {
namespace {

class UpdateSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_ / "jc.bin") << "jump client";
    std::filesystem::create_directory(dir_ / "mirror");
    Build("base", "5.0.0", {}, vendor_);
    Build("base", "5.1.0", {"base-5.0.0"}, vendor_);
    Build("site", "2.0.0", {"base-5.1.0"}, vendor_);
    Build("site", "3.0.0", {"base-9.0.0"}, vendor_);  // its dependency is not in the mirror
    auto stranger = *crypto::SigningKey::Generate();
    Build("site", "4.0.0", {}, stranger, "foreign");
    std::ofstream(dir_ / "mirror/README") << "not a bundle";
  }
  void Build(const std::string& kind, const std::string& version, std::vector<std::string> deps,
             const crypto::SigningKey& key, const std::string& name = "") {
    std::vector<update::PackageInput> packages;
    if (kind == "site") {
      packages.push_back(
          {.kind = "jump-client", .platform = "linux-x86_64", .path = (dir_ / "jc.bin")});
    }
    auto built =
        update::WriteBundle(dir_ / ("mirror/" + (name.empty() ? kind + "-" + version : name)),
                            {.id = {},
                             .kind = kind,
                             .version = version,
                             .depends_on = std::move(deps),
                             .created_ms = 1,
                             .packages = {}},
                            packages, key);
    ASSERT_TRUE(built) << built.error().ToString();
  }
  static std::vector<std::string> Ids(const std::vector<SourceEntry>& entries) {
    std::vector<std::string> ids;
    for (const auto& entry : entries) ids.push_back(entry.header.id);
    return ids;
  }

  testing::TempDir dir_;
  crypto::SigningKey vendor_ = *crypto::SigningKey::Generate();
};

TEST_F(UpdateSourceTest, ScanSkipsForeignAndNonBundleFilesWithAReason) {
  auto scan = ScanSource(dir_ / "mirror", vendor_.PublicKey());
  ASSERT_TRUE(scan) << scan.error().ToString();
  EXPECT_EQ(Ids(scan->entries),
            (std::vector<std::string>{"base-5.0.0", "base-5.1.0", "site-2.0.0", "site-3.0.0"}));
  ASSERT_EQ(scan->problems.size(), 2u);
  EXPECT_TRUE(scan->problems[0].starts_with("README: ")) << scan->problems[0];
  EXPECT_NE(scan->problems[1].find("foreign: "), std::string::npos);
  EXPECT_NE(scan->problems[1].find("not signed by the trusted"), std::string::npos);
  EXPECT_EQ(ScanSource(dir_ / "nowhere", vendor_.PublicKey()).error().code(), Errc::kNotFound);
}

TEST_F(UpdateSourceTest, AvailableUpdatesComeInDependencyOrderWithWhatIsMissing) {
  auto scan = *ScanSource(dir_ / "mirror", vendor_.PublicKey());
  auto available = AvailableUpdates(scan.entries,
                                    {.installed = {}, .base_version = "", .site_version = "1.0.0"});
  ASSERT_EQ(available.size(), 4u);
  EXPECT_EQ(available[0].entry.header.id, "base-5.0.0");
  EXPECT_TRUE(available[0].missing.empty());
  EXPECT_EQ(available[1].entry.header.id, "base-5.1.0");
  EXPECT_EQ(available[1].missing, std::vector<std::string>{"base-5.0.0"});
  EXPECT_EQ(available[2].entry.header.id, "site-2.0.0");
  EXPECT_EQ(available[2].missing, std::vector<std::string>{"base-5.1.0"});

  // Installed or not newer than the site's version: no longer available.
  SiteState later{.installed = {"base-5.0.0"}, .base_version = "5.0.0", .site_version = "2.0.0"};
  available = AvailableUpdates(scan.entries, later);
  ASSERT_EQ(available.size(), 2u);
  EXPECT_EQ(available[0].entry.header.id, "base-5.1.0");
  EXPECT_TRUE(available[0].missing.empty());
  EXPECT_EQ(available[1].entry.header.id, "site-3.0.0");
}

TEST_F(UpdateSourceTest, InstallPlanLeavesOutWhatCannotBeCompleted) {
  auto scan = *ScanSource(dir_ / "mirror", {});  // fetch-offline without a trust key
  EXPECT_EQ(scan.entries.size(), 5u);
  std::vector<std::string> skipped;
  auto plan = InstallPlan(scan.entries,
                          {.installed = {}, .base_version = "", .site_version = "1.0.0"}, &skipped);
  EXPECT_EQ(Ids(plan),
            (std::vector<std::string>{"base-5.0.0", "base-5.1.0", "site-2.0.0", "site-4.0.0"}));
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0], "site-3.0.0: needs base-9.0.0, which the source does not have");
}

}  // namespace
}  // namespace sluice::server
