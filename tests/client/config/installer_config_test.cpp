#include "client/config/installer_config.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "client/config/client_config.h"
#include "common/base/file_util.h"
#include "tests/support/temp_dir.h"

namespace sluice::client {
namespace {

class InstallerConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = crypto::SigningKey::Generate();
    ASSERT_TRUE(signer.has_value());
    key_ = installer::InstallerKey{.id = "inst-0a1b2c3d4e5f",
                                   .endpoint = "site.example.com:8443",
                                   .pin = "sha256/abc=",
                                   .signing_key = signer->PublicKey(),
                                   .kind = "access-console",
                                   .mode = "active",
                                   .jump_group = "Servers",
                                   .tag = "",
                                   .expires_ms = 2'000'000,
                                   .site_version = "2.1.0",
                                   .overrides = {"mode"}};
    text_ = installer::SignInstallerKey(key_, *signer);
  }
  installer::InstallerKey key_;
  std::string text_;
};

TEST_F(InstallerConfigTest, KeyBecomesAClientConfigThatEnrollsWithIt) {
  auto made =
      ConfigFromInstallerKey(text_, {.mode = "passive", .jump_group = "", .tag = "t"}, 1'000'000);
  ASSERT_TRUE(made.has_value()) << made.error().ToString();
  EXPECT_EQ(made->key, key_);
  auto config = ClientConfig::Parse(made->config_json);
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  EXPECT_EQ(config->host, "site.example.com");
  EXPECT_EQ(config->port, 8443);
  EXPECT_EQ(config->pin, "sha256/abc=");
  EXPECT_EQ(config->signing_key, key_.signing_key);
  EXPECT_EQ(config->kind, proto::ClientKind::kAccessConsole);
  EXPECT_EQ(config->mode, proto::Mode::kPassive);
  EXPECT_EQ(config->version, "2.1.0");
  EXPECT_EQ(config->installer_key, text_);
  EXPECT_TRUE(config->enrollment_key.empty());
  EXPECT_EQ(config->jump_group, "");
  EXPECT_EQ(config->tag, "t");
}

TEST_F(InstallerConfigTest, ExpiredOrDamagedKeysAreRefused) {
  auto expired = ConfigFromInstallerKey(text_, {}, 2'000'001);
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().code(), Errc::kTimeout);
  EXPECT_NE(expired.error().message().find("expired"), std::string::npos);
  std::string damaged = text_;
  damaged.back() = damaged.back() == 'A' ? 'Q' : 'A';
  EXPECT_FALSE(ConfigFromInstallerKey(damaged, {}, 0).has_value());
  EXPECT_FALSE(ConfigFromInstallerKey(text_, {.mode = "sometimes", .jump_group = "", .tag = ""}, 0)
                   .has_value());
}

TEST(RemoveClientFilesTest, RemovesAnAgentStateDirButNeverAnUnrelatedOne) {
  testing::TempDir dir;
  const std::string config = dir / "client.json";
  const std::string state = dir / "state";
  ASSERT_TRUE(WriteFileAtomic(config, "{}", 0600));
  std::filesystem::create_directories(state + "/versions");
  ASSERT_TRUE(WriteFileAtomic(state + "/identity.json", "{}", 0600));
  EXPECT_EQ(RemoveClientFiles(config, state), "");
  EXPECT_FALSE(std::filesystem::exists(config));
  EXPECT_FALSE(std::filesystem::exists(state));

  // A directory with someone else's files (a mistyped --state-dir) is left alone and named.
  const std::string home = dir / "home";
  std::filesystem::create_directories(home);
  ASSERT_TRUE(WriteFileAtomic(home + "/notes.txt", "keep me", 0600));
  EXPECT_NE(RemoveClientFiles(config, home).find("not an agent state directory"),
            std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(home + "/notes.txt"));
}

}  // namespace
}  // namespace sluice::client
