// The build-time templates: what wixl produced must hold every table and row the installer
// builder and Windows Installer rely on.

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "msi/installer_builder.h"
#include "tests/msi/msi_test_util.h"

namespace sluice::msi {
namespace {

using testing::ExportProperties;
using testing::ExportTable;
using testing::IsUpperGuid;
using testing::Tool;

class TemplateTest : public ::testing::TestWithParam<std::string_view> {
 protected:
  std::string kind_ = std::string(GetParam());
  std::string path_ = TemplatePath(SLUICE_MSI_TEMPLATE_DIR, GetParam());
};

TEST_P(TemplateTest, HasTheTablesTheBuilderRelies) {
  auto listed = Tool({"msiinfo", "tables", path_});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::set<std::string> tables;
  std::istringstream lines(listed.out);
  for (std::string line; std::getline(lines, line);) tables.insert(line);
  for (const char* table : {"Property", "Upgrade", "Registry", "File", "Component", "Media",
                            "Feature", "InstallExecuteSequence", "LaunchCondition"}) {
    EXPECT_TRUE(tables.contains(table)) << kind_ << " lacks " << table;
  }
}

TEST_P(TemplateTest, DeclaresPlaceholdersAndAStableIdentity) {
  auto properties = ExportProperties(path_);
  EXPECT_EQ(properties["ProductVersion"], "0.0.1");
  EXPECT_EQ(properties["Manufacturer"], "Sluice");
  EXPECT_EQ(properties["KEY_INFO"], "unset");
  EXPECT_TRUE(IsUpperGuid(properties["UpgradeCode"])) << properties["UpgradeCode"];
  EXPECT_TRUE(IsUpperGuid(properties["ProductCode"])) << properties["ProductCode"];

  bool upgrade_row = false;
  for (const auto& row : ExportTable(path_, "Upgrade")) {
    upgrade_row = upgrade_row || (row[0] == properties["UpgradeCode"] && row[2] == "0.0.1");
  }
  EXPECT_TRUE(upgrade_row) << "MajorUpgrade must bound older versions at ProductVersion";
}

TEST_P(TemplateTest, InstallsPayloadAndKeyInfoRegistryValue) {
  bool payload = false;
  for (const auto& row : ExportTable(path_, "File")) {
    payload = payload || (row.size() > 2 && row[2] == "sluice-client.txt");
  }
  EXPECT_TRUE(payload);
  bool registry = false;
  for (const auto& row : ExportTable(path_, "Registry")) {
    // Registry, Root (2 = HKLM), Key, Name, Value, Component_
    registry =
        registry || (row.size() > 4 && row[1] == "2" && row[2] == "Software\\Sluice\\" + kind_ &&
                     row[3] == "KeyInfo" && row[4] == "[KEY_INFO]");
  }
  EXPECT_TRUE(registry);
  bool install_dir = false;
  for (const auto& row : ExportTable(path_, "Directory")) {
    install_dir = install_dir || (row.size() > 2 && row[0] == "INSTALLDIR" && row[2] == kind_);
  }
  EXPECT_TRUE(install_dir);
}

INSTANTIATE_TEST_SUITE_P(Kinds, TemplateTest,
                         ::testing::Values(kJumpClientKind, kAccessConsoleKind),
                         [](const auto& info) {
                           return info.param == kJumpClientKind ? "JumpClient" : "AccessConsole";
                         });

}  // namespace
}  // namespace sluice::msi
