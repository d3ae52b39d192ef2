// The generated MSIs under Windows Installer, as Wine implements it: a real sluiced builds an
// installer around a Windows client, regenerates it when the site moves to a new version, and
// `msiexec` installs the first, upgrades to the second in place, refuses to go back, and
// uninstalls, leaving nothing behind. Label `wine`; needs the wine package (scripts/setup.sh).

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "tests/msi/msi_test_util.h"
#include "tests/support/process.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/text_util.h"

namespace sluice::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
namespace msit = sluice::msi::testing;

// msiexec's exit status when it refuses an install (ERROR_INSTALL_FAILURE, 1603), as a Linux
// process sees it: the low eight bits.
constexpr int kInstallFailure = 1603 & 0xFF;

class InstallerWineTest : public ::testing::Test {
 protected:
  void TearDown() override { Wine({"wineserver", "-k"}); }

  // Runs a Wine program in this test's own prefix; the first run creates the prefix.
  RunResult Wine(std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"/usr/bin/env", "WINEPREFIX=" + prefix_.string(), "WINEDEBUG=-all",
                               // No Mono or Gecko: nothing here needs them, and nothing may
                               // offer to download them.
                               "WINEDLLOVERRIDES=mscoree,mshtml="});
    return RunCommand(argv, std::chrono::minutes(3));
  }
  // Runs msiexec, then waits until every process of the prefix has exited (wineserver -w): the
  // next command must not meet the services or the install mutex of this one, which on a busy
  // machine could still be winding down (a CI run saw a second install fail with 1).
  int Msiexec(const std::string& action, const std::string& msi) {
    std::string windows_log = "Z:" + log_.string();  // Wine's Z: is the Unix root
    std::replace(windows_log.begin(), windows_log.end(), '/', '\\');
    RunResult run = Wine({"wine", "msiexec", action, msi, "/qn", "/l*", windows_log});
    Wine({"wineserver", "-w"});
    if (run.exit_code != 0) {
      std::cerr << "msiexec " << action << " " << msi << " exited " << run.exit_code << ": "
                << run.output << "\n--- msiexec log (tail) ---\n";
      const std::string text = FileText(log_.string());
      std::cerr << text.substr(text.size() > 4000 ? text.size() - 4000 : 0) << "\n";
    }
    return run.exit_code;
  }
  // The KeyInfo value Wine's registry holds for `kind`, or "" when there is none.
  std::string RegisteredKeyInfo(const std::string& kind) {
    RunResult run =
        Wine({"wine", "reg", "query", "HKLM\\Software\\Sluice\\" + kind, "/v", "KeyInfo"});
    if (run.exit_code != 0) return "";
    const size_t at = run.output.find("REG_SZ");
    if (at == std::string::npos) return "";
    std::string value = run.output.substr(at + 6);
    value.erase(0, value.find_first_not_of(" \t"));
    return value.substr(0, value.find_first_of("\r\n"));
  }
  bool ProductRegistered(const std::string& product_code) {
    return Wine({"wine", "reg", "query",
                 "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\" + product_code})
               .exit_code == 0;
  }
  fs::path InstalledClient(const std::string& kind) {
    return prefix_ / "drive_c" / "Program Files" / "Sluice" / kind / ("sluice-" + kind + ".exe");
  }
  std::string AddWindowsClient(const std::string& kind, const std::string& version,
                               unsigned seed) {
    const std::string bytes = msit::FakeClient(256 * 1024, seed);
    const std::string path = dir_.path() + "/windows-" + version + ".exe";
    msit::WriteFile(path, bytes);
    auto added = server_.Admin("package-add", {{"kind", kind},
                                               {"platform", "windows-x86_64"},
                                               {"version", version},
                                               {"path", path}});
    EXPECT_TRUE(added["ok"].get<bool>()) << added.dump();
    return bytes;
  }
  json Installer(const std::string& id) {
    const json list = server_.Admin("installers");  // kept alive: the loop iterates into it
    for (const json& installer : list["result"]["installers"]) {
      if (installer["id"] == id) return installer;
    }
    return json();
  }

  TempDir dir_;
  fs::path prefix_ = fs::path(dir_.path()) / "wine-prefix";
  fs::path log_ = fs::path(dir_.path()) / "msiexec.log";
  ServerProcess server_;
};

TEST_F(InstallerWineTest, InstallsUpgradesInPlaceRefusesADowngradeAndUninstallsCleanly) {
  ASSERT_TRUE(server_.Start());
  const std::string client_1 = AddWindowsClient("jump-client", "1.0.0", 1);
  const std::string client_2 = AddWindowsClient("jump-client", "2.0.0", 2);
  json made = server_.Admin("installer-create", {{"kind", "jump-client"}});
  ASSERT_TRUE(made["ok"].get<bool>()) << made.dump();
  const json first = made["result"]["installer"];
  const std::string first_msi = dir_.path() + "/first.msi";
  fs::copy_file(first["file"].get<std::string>(), first_msi);  // archived files stay, too
  ASSERT_TRUE(server_.Admin("site-set-version", {{"version", "2.0.0"}})["ok"].get<bool>());
  ASSERT_TRUE(WaitUntil([&] { return Installer(first["id"])["site_version"] == "2.0.0"; },
                        std::chrono::seconds(60)))
      << server_.log();
  const json second = Installer(first["id"]);
  const std::string second_msi = second["file"];

  // Install: the site's client where the docs say, and the installer key in the registry.
  ASSERT_EQ(Msiexec("/i", first_msi), 0);
  ASSERT_TRUE(fs::exists(InstalledClient("jump-client")));
  EXPECT_EQ(msit::Sha256Hex(msit::ReadFile(InstalledClient("jump-client"))),
            msit::Sha256Hex(client_1));
  EXPECT_EQ(RegisteredKeyInfo("jump-client"), first["key_info"].get<std::string>());
  EXPECT_TRUE(ProductRegistered(first["product_code"]));

  // The regenerated installer upgrades in place: new client, new key, one product.
  ASSERT_EQ(Msiexec("/i", second_msi), 0);
  EXPECT_EQ(msit::Sha256Hex(msit::ReadFile(InstalledClient("jump-client"))),
            msit::Sha256Hex(client_2));
  EXPECT_EQ(RegisteredKeyInfo("jump-client"), second["key_info"].get<std::string>());
  EXPECT_TRUE(ProductRegistered(second["product_code"]));
  EXPECT_FALSE(ProductRegistered(first["product_code"]));

  // The older installer cannot take the machine back.
  EXPECT_EQ(Msiexec("/i", first_msi), kInstallFailure);
  EXPECT_EQ(msit::Sha256Hex(msit::ReadFile(InstalledClient("jump-client"))),
            msit::Sha256Hex(client_2));

  // Uninstall removes the client and the key.
  ASSERT_EQ(Msiexec("/x", second_msi), 0);
  EXPECT_FALSE(fs::exists(InstalledClient("jump-client")));
  EXPECT_EQ(RegisteredKeyInfo("jump-client"), "");
  EXPECT_FALSE(ProductRegistered(second["product_code"]));
}

}  // namespace
}  // namespace sluice::testing
