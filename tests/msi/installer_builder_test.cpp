#include "msi/installer_builder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "tests/msi/msi_test_util.h"

// libmsi 0.101 leaks one small string per summary-information write (inside libmsi.so, not
// reachable from our handles); keep LeakSanitizer builds green without hiding our own leaks.
extern "C" const char* __lsan_default_suppressions() { return "leak:libmsi.so\n"; }

namespace sluice::msi {
namespace {

namespace fs = std::filesystem;
using testing::ExportProperties;
using testing::ExportTable;
using testing::IsUpperGuid;
using testing::ReadFile;
using testing::Sha256Hex;
using testing::SuminfoPackageCode;
using testing::TempDir;
using testing::Tool;
using testing::VersionParts;

// The client every template here is built around.
const std::string& Client() {
  static const std::string client = testing::FakeClient(128 * 1024);
  return client;
}

// The kind's template, built once for the whole test program.
const std::string& Template(std::string_view kind) {
  static TempDir dir;  // removed at exit
  static std::map<std::string, std::string, std::less<>> built;
  auto it = built.find(kind);
  if (it == built.end()) {
    it = built.emplace(std::string(kind), testing::BuildTestTemplate(dir, kind, Client())).first;
  }
  return it->second;
}

constexpr const char* kKeyInfo = "ak1.c2x1aWNlLWtleQ==+/site=box.example:443";

InstallerSpec JumpClientSpec(const std::string& site_version = "24.3.1") {
  return InstallerSpec{std::string(kJumpClientKind), site_version, {{"KEY_INFO", kKeyInfo}}};
}

class InstallerBuilderTest : public ::testing::Test {
 protected:
  std::string template_path_ = Template(kJumpClientKind);
  TempDir dir_;
};

TEST_F(InstallerBuilderTest, PatchedPropertiesReadBackThroughLibmsi) {
  std::string out = (dir_ / "jump.msi");
  auto built = BuildInstaller(template_path_, JumpClientSpec(), out);
  ASSERT_TRUE(built.has_value()) << built.error().ToString();
  EXPECT_TRUE(IsUpperGuid(built->product_code)) << built->product_code;
  EXPECT_TRUE(IsUpperGuid(built->package_code)) << built->package_code;
  EXPECT_TRUE(IsUpperGuid(built->upgrade_code)) << built->upgrade_code;
  EXPECT_EQ(built->product_version, "24.3.1");

  auto properties = ReadProperties(out);
  ASSERT_TRUE(properties.has_value()) << properties.error().ToString();
  EXPECT_EQ(properties->at("KEY_INFO"), kKeyInfo);
  EXPECT_EQ(properties->at("ProductVersion"), "24.3.1");
  EXPECT_EQ(properties->at("ProductCode"), built->product_code);
  EXPECT_EQ(properties->at("UpgradeCode"), built->upgrade_code);
  EXPECT_EQ(properties->at("Manufacturer"), "Sluice");
  EXPECT_EQ(ReadPackageCode(out).value(), built->package_code);
}

TEST_F(InstallerBuilderTest, MsiinfoSeesNewCodesThatDifferFromTemplateAndOtherBuilds) {
  std::string first = (dir_ / "first.msi");
  std::string second = (dir_ / "second.msi");
  auto a = BuildInstaller(template_path_, JumpClientSpec(), first);
  auto b = BuildInstaller(template_path_, JumpClientSpec(), second);
  ASSERT_TRUE(a.has_value() && b.has_value());

  auto exported = ExportProperties(first);
  EXPECT_EQ(exported["KEY_INFO"], kKeyInfo);
  EXPECT_EQ(exported["ProductVersion"], "24.3.1");
  EXPECT_EQ(exported["ProductCode"], a->product_code);
  EXPECT_TRUE(IsUpperGuid(exported["ProductCode"]));
  EXPECT_EQ(SuminfoPackageCode(first), a->package_code);
  EXPECT_TRUE(IsUpperGuid(SuminfoPackageCode(first)));

  auto template_properties = ExportProperties(template_path_);
  std::string template_package = SuminfoPackageCode(template_path_);
  ASSERT_FALSE(template_package.empty());
  EXPECT_EQ(template_properties["ProductVersion"], "0.0.1");
  EXPECT_NE(a->product_code, template_properties["ProductCode"]);
  EXPECT_NE(a->package_code, template_package);
  EXPECT_NE(a->product_code, b->product_code);
  EXPECT_NE(a->package_code, b->package_code);
  EXPECT_NE(SuminfoPackageCode(first), SuminfoPackageCode(second));
  EXPECT_EQ(a->upgrade_code, template_properties["UpgradeCode"]);
}

TEST_F(InstallerBuilderTest, NewerSiteVersionUpgradesOlderPackage) {
  std::string older = (dir_ / "older.msi");
  std::string newer = (dir_ / "newer.msi");
  auto a = BuildInstaller(template_path_, JumpClientSpec("24.3.1"), older);
  auto b = BuildInstaller(template_path_, JumpClientSpec("24.10.0"), newer);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_GT(VersionParts(ExportProperties(newer)["ProductVersion"]),
            VersionParts(ExportProperties(older)["ProductVersion"]));
  EXPECT_EQ(ExportProperties(newer)["UpgradeCode"], ExportProperties(older)["UpgradeCode"]);
  EXPECT_EQ(a->upgrade_code, b->upgrade_code);

  // Upgrade rows: UpgradeCode, VersionMin, VersionMax, Language, Attributes, Remove, Action.
  auto rows = ExportTable(newer, "Upgrade");
  bool upgrades_older = false;
  bool detects_newer = false;
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 7u);
    EXPECT_EQ(row[0], b->upgrade_code);
    EXPECT_NE(row[1], "0.0.1");
    EXPECT_NE(row[2], "0.0.1");
    // No VersionMin and VersionMax = ours: every older product is found and removed.
    if (row[1].empty() && row[2] == "24.10.0" && row[6] == "WIX_UPGRADE_DETECTED") {
      upgrades_older = true;
    }
    if (row[1] == "24.10.0" && row[2].empty() && row[6] == "WIX_DOWNGRADE_DETECTED") {
      detects_newer = true;
    }
  }
  EXPECT_TRUE(upgrades_older);
  EXPECT_TRUE(detects_newer);
  // RemoveExistingProducts is what replaces the old install without an uninstall.
  bool removes_existing = false;
  for (const auto& row : ExportTable(newer, "InstallExecuteSequence")) {
    removes_existing = removes_existing || row[0] == "RemoveExistingProducts";
  }
  EXPECT_TRUE(removes_existing);
}

TEST_F(InstallerBuilderTest, TemplateFileIsNeverModified) {
  std::string before = Sha256Hex(ReadFile(template_path_));
  ASSERT_FALSE(ReadFile(template_path_).empty());
  ASSERT_TRUE(BuildInstaller(template_path_, JumpClientSpec(), dir_ / "a.msi").has_value());
  ASSERT_TRUE(BuildInstaller(template_path_, JumpClientSpec("25.1.0"), dir_ / "b.msi"));
  EXPECT_EQ(Sha256Hex(ReadFile(template_path_)), before);
  EXPECT_EQ(ExportProperties(template_path_)["KEY_INFO"], "unset");
}

TEST_F(InstallerBuilderTest, MsiextractYieldsThePayload) {
  std::string out = (dir_ / "jump.msi");
  ASSERT_TRUE(BuildInstaller(template_path_, JumpClientSpec(), out).has_value());
  fs::path extract = std::filesystem::path(dir_ / "extract");
  fs::create_directories(extract);
  auto result = Tool({"msiextract", "-C", extract.string(), out});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // msiextract puts ProgramFiles64Folder at the top of its output directory.
  fs::path payload = extract / "Sluice" / "jump-client" / "sluice-jump-client.exe";
  ASSERT_TRUE(fs::exists(payload)) << result.out;
  EXPECT_EQ(Sha256Hex(ReadFile(payload.string())), Sha256Hex(Client()));
}

TEST_F(InstallerBuilderTest, AccessConsoleHasItsOwnUpgradeCodeAndRegistryKey) {
  std::string out = (dir_ / "console.msi");
  InstallerSpec spec{std::string(kAccessConsoleKind), "24.3.1", {{"KEY_INFO", "console-key"}}};
  auto console = BuildInstaller(Template(kAccessConsoleKind), spec, out);
  auto jump = BuildInstaller(template_path_, JumpClientSpec(), dir_ / "jump.msi");
  ASSERT_TRUE(console.has_value() && jump.has_value()) << console.error().ToString();
  EXPECT_NE(console->upgrade_code, jump->upgrade_code);
  bool key_info_value = false;
  for (const auto& row : ExportTable(out, "Registry")) {
    // Registry, Root, Key, Name, Value, Component_
    if (row.size() >= 5 && row[2] == "Software\\Sluice\\access-console" && row[3] == "KeyInfo") {
      key_info_value = row[1] == "2" && row[4] == "[KEY_INFO]";
    }
  }
  EXPECT_TRUE(key_info_value);
  EXPECT_EQ(ExportProperties(out)["KEY_INFO"], "console-key");
}

TEST_F(InstallerBuilderTest, AddsPropertiesTheTemplateLacks) {
  std::string out = (dir_ / "jump.msi");
  InstallerSpec spec = JumpClientSpec();
  spec.properties["SLUICE_SITE"] = "box.example:443";
  ASSERT_TRUE(BuildInstaller(template_path_, spec, out).has_value());
  EXPECT_EQ(ExportProperties(out)["SLUICE_SITE"], "box.example:443");
  EXPECT_EQ(ReadProperties(out)->at("SLUICE_SITE"), "box.example:443");
}

TEST_F(InstallerBuilderTest, ReplacesAnExistingFileAndLeavesNoTemporaries) {
  std::string out = (dir_ / "jump.msi");
  testing::WriteFile(out, "an old installer");
  ASSERT_TRUE(BuildInstaller(template_path_, JumpClientSpec(), out).has_value());
  EXPECT_EQ(ReadProperties(out)->at("KEY_INFO"), kKeyInfo);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_.path())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"jump.msi"});
}

TEST_F(InstallerBuilderTest, RefusedSpecsLeaveNothingBehind) {
  std::string out = (dir_ / "jump.msi");
  testing::WriteFile(out, "previous");
  struct Case {
    InstallerSpec spec;
    Errc code;
  };
  std::vector<Case> cases = {
      {{"jump-client", "24.3.1", {{"KEY_INFO", "cl\xC3\xA9"}}}, Errc::kInvalidArgument},
      {{"jump-client", "24.3.1", {{"KEY_INFO", "line\nbreak"}}}, Errc::kInvalidArgument},
      {{"jump-client", "24.3.1", {{"KEY_INFO", ""}}}, Errc::kInvalidArgument},
      {{"jump-client", "24.3.1", {{"KEY INFO", "x"}}}, Errc::kInvalidArgument},
      {{"jump-client", "24.3.1", {{"ProductCode", "{00000000-0000-4000-8000-000000000000}"}}},
       Errc::kInvalidArgument},
      {{"jump-client", "256.0.0", {{"KEY_INFO", "x"}}}, Errc::kInvalidArgument},
      {{"jumpoint", "24.3.1", {{"KEY_INFO", "x"}}}, Errc::kInvalidArgument},
  };
  for (const Case& c : cases) {
    auto built = BuildInstaller(template_path_, c.spec, out);
    ASSERT_FALSE(built.has_value()) << c.spec.kind << " " << c.spec.site_version;
    EXPECT_EQ(built.error().code(), c.code) << built.error().ToString();
  }
  auto missing = BuildInstaller(dir_ / "no-template.msi", JumpClientSpec(), out);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
  EXPECT_EQ(ReadFile(out), "previous");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_.path()), fs::directory_iterator()), 1);
}

TEST_F(InstallerBuilderTest, CorruptTemplateFailsCleanly) {
  fs::path bad_dir = std::filesystem::path(dir_ / "templates");
  fs::create_directories(bad_dir);
  const std::string bad = (bad_dir / "sluice-jump-client-bad.msi").string();
  testing::WriteFile(bad, "not an msi");
  std::string out = (dir_ / "jump.msi");
  auto built = BuildInstaller(bad, JumpClientSpec(), out);
  ASSERT_FALSE(built.has_value());
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_.path()), fs::directory_iterator()), 1);

  auto properties = ReadProperties(bad);
  ASSERT_FALSE(properties.has_value());
  EXPECT_EQ(properties.error().code(), Errc::kIo);
}

}  // namespace
}  // namespace sluice::msi
