// Templates built by wixl around a client file: every table and row the installer builder and
// Windows Installer rely on, the client's exact bytes in the cabinet, and clean refusals.

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "msi/installer_builder.h"
#include "msi/installer_template.h"
#include "tests/msi/msi_test_util.h"

namespace sluice::msi {
namespace {

namespace fs = std::filesystem;
using testing::ExportProperties;
using testing::ExportTable;
using testing::FakeClient;
using testing::IsUpperGuid;
using testing::ReadFile;
using testing::Sha256Hex;
using testing::TempDir;
using testing::Tool;
using testing::WriteFile;

class TemplateTest : public ::testing::TestWithParam<std::string_view> {
 protected:
  std::string kind_ = std::string(GetParam());
  TempDir dir_;
  std::string client_ = FakeClient(300 * 1024);
  std::string path_ = testing::BuildTestTemplate(dir_, kind_, client_);
};

TEST_P(TemplateTest, HasTheTablesTheBuilderRelies) {
  ASSERT_FALSE(path_.empty());
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
  ASSERT_FALSE(path_.empty());
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

  // Another client of the same kind: same UpgradeCode and component GUIDs (what lets a newer
  // installer replace an older one), a different client.
  TempDir other_dir;
  const std::string other = testing::BuildTestTemplate(other_dir, kind_, FakeClient(1000, 7));
  ASSERT_FALSE(other.empty());
  EXPECT_EQ(ExportProperties(other)["UpgradeCode"], properties["UpgradeCode"]);
  EXPECT_EQ(ExportTable(other, "Component"), ExportTable(path_, "Component"));
}

TEST_P(TemplateTest, InstallsTheClientAndAKeyInfoRegistryValueFor64BitWindows) {
  ASSERT_FALSE(path_.empty());
  const std::string client_name = "sluice-" + kind_ + ".exe";
  bool client_row = false;
  for (const auto& row : ExportTable(path_, "File")) {
    // File, Component_, FileName, FileSize
    client_row = client_row || (row.size() > 3 && row[2] == client_name &&
                                row[3] == std::to_string(client_.size()));
  }
  EXPECT_TRUE(client_row);
  bool registry = false;
  for (const auto& row : ExportTable(path_, "Registry")) {
    // Registry, Root (2 = HKLM), Key, Name, Value, Component_
    registry =
        registry || (row.size() > 4 && row[1] == "2" && row[2] == "Software\\Sluice\\" + kind_ &&
                     row[3] == "KeyInfo" && row[4] == "[KEY_INFO]");
  }
  EXPECT_TRUE(registry);
  std::map<std::string, std::vector<std::string>> dirs;
  for (const auto& row : ExportTable(path_, "Directory")) dirs[row[0]] = row;
  ASSERT_TRUE(dirs.contains("INSTALLDIR"));
  EXPECT_EQ(dirs["INSTALLDIR"][2], kind_);
  EXPECT_EQ(dirs[dirs["INSTALLDIR"][1]][1], "ProgramFiles64Folder");
  for (const auto& row : ExportTable(path_, "Component")) {
    // Attributes bit 256: a 64-bit component.
    EXPECT_TRUE(std::stoi(row[3]) & 256) << row[0];
  }
  EXPECT_NE(Tool({"msiinfo", "suminfo", path_}).out.find("x64;1033"), std::string::npos);

  // msiextract gets the client back, byte for byte.
  const fs::path extract = std::filesystem::path(dir_ / "extract");
  fs::create_directories(extract);
  auto extracted = Tool({"msiextract", "-C", extract.string(), path_});
  ASSERT_EQ(extracted.exit_code, 0) << extracted.err;
  // msiextract puts ProgramFiles64Folder at the top of its output directory.
  const fs::path installed = extract / "Sluice" / kind_ / client_name;
  ASSERT_TRUE(fs::exists(installed)) << extracted.out;
  EXPECT_EQ(Sha256Hex(ReadFile(installed.string())), Sha256Hex(client_));
}

INSTANTIATE_TEST_SUITE_P(Kinds, TemplateTest,
                         ::testing::Values(kJumpClientKind, kAccessConsoleKind),
                         [](const auto& info) {
                           return info.param == kJumpClientKind ? "JumpClient" : "AccessConsole";
                         });

class TemplateRefusalTest : public ::testing::Test {
 protected:
  // The directory holds nothing but what the test put there: no output, no staging leftovers.
  void ExpectOnly(const std::set<std::string>& names) {
    std::set<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir_.path())) {
      found.insert(entry.path().filename().string());
    }
    EXPECT_EQ(found, names);
  }
  TempDir dir_;
  std::string client_ = FakeClient(4096);
  std::string client_path_ = (dir_ / "client.exe");
  std::string out_ = (dir_ / "template.msi");
};

TEST_F(TemplateRefusalTest, AClientWhoseDigestDiffersIsNotEmbedded) {
  WriteFile(client_path_, client_);
  std::string recorded = Sha256Hex(client_);
  recorded[0] = recorded[0] == '0' ? '1' : '0';
  auto built = BuildTemplate(kJumpClientKind, client_path_, recorded, out_);
  ASSERT_FALSE(built.has_value());
  EXPECT_EQ(built.error().code(), Errc::kCorrupt);
  EXPECT_NE(built.error().message().find(recorded), std::string::npos) << built.error().message();
  ExpectOnly({"client.exe"});
}

TEST_F(TemplateRefusalTest, AMissingClientOrUnknownKindFailsCleanly) {
  auto missing = BuildTemplate(kJumpClientKind, client_path_, Sha256Hex(client_), out_);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
  ExpectOnly({});

  WriteFile(client_path_, client_);
  auto unknown = BuildTemplate("jumpoint", client_path_, Sha256Hex(client_), out_);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), Errc::kInvalidArgument);
  ExpectOnly({"client.exe"});
}

TEST_F(TemplateRefusalTest, AnExistingTemplateIsReplacedWhole) {
  WriteFile(client_path_, client_);
  WriteFile(out_, "stale");
  ASSERT_TRUE(BuildTemplate(kAccessConsoleKind, client_path_, Sha256Hex(client_), out_));
  EXPECT_EQ(ExportProperties(out_)["KEY_INFO"], "unset");
  ExpectOnly({"client.exe", "template.msi"});
}

}  // namespace
}  // namespace sluice::msi
