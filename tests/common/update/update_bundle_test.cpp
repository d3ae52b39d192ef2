// Update bundles: a round trip through real files, and every way a bundle must be refused.

#include "common/update/update_bundle.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/base/file_util.h"
#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"
#include "tests/support/temp_dir.h"

namespace sluice::update {
namespace {

class UpdateBundleTest : public ::testing::Test {
 protected:
  std::string WriteText(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  Result<BundleHeader> BuildSite(const std::string& out) {
    return WriteBundle(out,
                       {.id = {},
                        .kind = "site",
                        .version = "2.0.0",
                        .depends_on = {"base-5.0.0"},
                        .created_ms = 1'764'057'600'000,
                        .packages = {}},
                       {{.kind = "jump-client", .platform = "linux-x86_64", .path = jc_},
                        {.kind = "access-console", .platform = "windows-x86_64", .path = ac_}},
                       vendor_);
  }
  std::string Bytes(const std::string& path) { return *ReadFile(path); }

  testing::TempDir dir_;
  crypto::SigningKey vendor_ = *crypto::SigningKey::Generate();
  std::string jc_ = WriteText("jc.bin", std::string(300'000, 'j') + "end");
  std::string ac_ = WriteText("ac.msi", "console package");
};

TEST_F(UpdateBundleTest, RoundTripVerifiesSignatureAndEveryPayload) {
  const std::string out = (dir_ / "site-2.0.0.sluice-update");
  auto built = BuildSite(out);
  ASSERT_TRUE(built) << built.error().ToString();
  EXPECT_EQ(built->id, "site-2.0.0");
  ASSERT_EQ(built->packages.size(), 2u);
  EXPECT_EQ(built->packages[0].version, "2.0.0");
  EXPECT_EQ(built->packages[0].sha256, crypto::HexEncode(*crypto::Sha256File(jc_)));

  auto opened = ReadBundle(*WholeFile(out), vendor_.PublicKey(), true);
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_EQ(opened->header, *built);
  const std::string extracted = (dir_ / "ac.out");
  ASSERT_TRUE(ExtractPayload(*opened, 1, extracted));
  EXPECT_EQ(Bytes(extracted), "console package");
  ASSERT_TRUE(ExtractPayload(*opened, 0, extracted));
  EXPECT_EQ(Bytes(extracted), Bytes(jc_));
}

TEST_F(UpdateBundleTest, BaseUpdateHasNoPackagesAndSiteNeedsSome) {
  auto base = WriteBundle(dir_ / "base",
                          {.id = {},
                           .kind = "base",
                           .version = "5.0.0",
                           .depends_on = {},
                           .created_ms = 1,
                           .packages = {}},
                          {}, vendor_);
  ASSERT_TRUE(base) << base.error().ToString();
  EXPECT_TRUE(ReadBundle(*WholeFile(dir_ / "base"), vendor_.PublicKey(), true));
  auto empty_site = WriteBundle(dir_ / "site",
                                {.id = {},
                                 .kind = "site",
                                 .version = "2.0.0",
                                 .depends_on = {},
                                 .created_ms = 1,
                                 .packages = {}},
                                {}, vendor_);
  ASSERT_FALSE(empty_site);
  EXPECT_NE(empty_site.error().message().find("at least one client package"), std::string::npos);
  auto bad_dependency = WriteBundle(dir_ / "x",
                                    {.id = {},
                                     .kind = "base",
                                     .version = "5.0.0",
                                     .depends_on = {"banana"},
                                     .created_ms = 1,
                                     .packages = {}},
                                    {}, vendor_);
  ASSERT_FALSE(bad_dependency);
  EXPECT_NE(bad_dependency.error().message().find("'banana'"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "site"));
}

TEST_F(UpdateBundleTest, ForeignSignedBundleIsRefused) {
  const std::string out = (dir_ / "bundle");
  ASSERT_TRUE(BuildSite(out));
  auto stranger = *crypto::SigningKey::Generate();
  auto opened = ReadBundle(*WholeFile(out), stranger.PublicKey(), false);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code(), Errc::kCrypto);
  EXPECT_NE(opened.error().message().find("not signed by the trusted update signing key"),
            std::string::npos);
}

TEST_F(UpdateBundleTest, AlteredHeaderOrPayloadIsRefused) {
  const std::string out = (dir_ / "bundle");
  ASSERT_TRUE(BuildSite(out));
  const std::string original = Bytes(out);

  std::string header_changed = original;
  const auto at = header_changed.find("2.0.0");
  header_changed.replace(at, 5, "9.0.0");
  ASSERT_TRUE(WriteFileAtomic(out, header_changed));
  auto opened = ReadBundle(*WholeFile(out), vendor_.PublicKey(), true);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code(), Errc::kCrypto);

  std::string payload_changed = original;
  payload_changed[payload_changed.size() - 5] ^= 0x20;  // inside the console package
  ASSERT_TRUE(WriteFileAtomic(out, payload_changed));
  EXPECT_TRUE(ReadBundle(*WholeFile(out), vendor_.PublicKey(), false));  // header is fine
  opened = ReadBundle(*WholeFile(out), vendor_.PublicKey(), true);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code(), Errc::kCorrupt);
  EXPECT_NE(opened.error().message().find("access-console windows-x86_64 fails its SHA-256"),
            std::string::npos)
      << opened.error().message();
}

TEST_F(UpdateBundleTest, TruncatedOrForeignFilesAreRefusedClearly) {
  const std::string out = (dir_ / "bundle");
  ASSERT_TRUE(BuildSite(out));
  const std::string original = Bytes(out);
  for (size_t keep : {size_t{0}, size_t{10}, size_t{30}, size_t{400}, original.size() - 1}) {
    ASSERT_TRUE(WriteFileAtomic(out, original.substr(0, keep)));
    auto opened = ReadBundle(*WholeFile(out), vendor_.PublicKey(), true);
    ASSERT_FALSE(opened) << keep;
    EXPECT_EQ(opened.error().code(), Errc::kCorrupt) << keep << ": " << opened.error().message();
  }
  ASSERT_TRUE(WriteFileAtomic(out, original.substr(0, original.size() - 1)));
  EXPECT_NE(
      ReadBundle(*WholeFile(out), vendor_.PublicKey(), true).error().message().find("truncated"),
      std::string::npos);
  ASSERT_TRUE(WriteFileAtomic(out, original + "x"));
  EXPECT_NE(ReadBundle(*WholeFile(out), vendor_.PublicKey(), true)
                .error()
                .message()
                .find("trailing bytes"),
            std::string::npos);
  ASSERT_TRUE(WriteFileAtomic(out, "PK\x03\x04 this is a zip file, not an update"));
  EXPECT_NE(ReadBundle(*WholeFile(out), vendor_.PublicKey(), true)
                .error()
                .message()
                .find("not an update bundle"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::update
