#include "common/installer/installer_key.h"

#include <gtest/gtest.h>

#include "common/crypto/encoding.h"

namespace sluice::installer {
namespace {

InstallerKey Sample(const crypto::SigningKey& signer) {
  return InstallerKey{.id = "inst-0a1b2c3d4e5f",
                      .endpoint = "site.example.com:443",
                      .pin = "sha256/abc=",
                      .signing_key = signer.PublicKey(),
                      .kind = "jump-client",
                      .mode = "active",
                      .jump_group = "Servers",
                      .tag = "rack-4",
                      .expires_ms = 1764144000000,
                      .site_version = "2.0.0",
                      .overrides = {"jump-group", "mode"}};
}

TEST(InstallerKeyTest, SignedKeyIsAsciiAndRoundTrips) {
  auto signer = crypto::SigningKey::Generate();
  ASSERT_TRUE(signer.has_value());
  InstallerKey key = Sample(*signer);
  key.tag = "caf\xc3\xa9";  // non-ASCII input is escaped in the payload
  std::string text = SignInstallerKey(key, *signer);
  ASSERT_TRUE(text.starts_with("SLK1."));
  for (char c : text) {
    EXPECT_TRUE(c > 0x20 && c < 0x7f) << "non-printable byte in key";
  }
  auto verified = VerifyInstallerKey(text, signer->PublicKey());
  ASSERT_TRUE(verified.has_value()) << verified.error().ToString();
  EXPECT_EQ(*verified, key);
  auto opened = OpenInstallerKey(text);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EXPECT_EQ(*opened, key);
}

TEST(InstallerKeyTest, TamperedPayloadIsRefused) {
  auto signer = crypto::SigningKey::Generate();
  ASSERT_TRUE(signer.has_value());
  std::string text = SignInstallerKey(Sample(*signer), *signer);
  // Re-encode the payload with a later expiry, keeping the old signature.
  size_t dot = text.find('.', 5);
  auto payload = crypto::Base64UrlDecode(text.substr(5, dot - 5));
  ASSERT_TRUE(payload.has_value());
  std::string json(AsChars(*payload));
  size_t at = json.find("1764144000000");
  ASSERT_NE(at, std::string::npos);
  json.replace(at, 13, "9999999999999");
  std::string forged = "SLK1." + crypto::Base64UrlEncode(AsBytes(json)) + text.substr(dot);
  auto verified = VerifyInstallerKey(forged, signer->PublicKey());
  ASSERT_FALSE(verified.has_value());
  EXPECT_EQ(verified.error().code(), Errc::kCrypto);
  EXPECT_NE(verified.error().message().find("does not verify"), std::string::npos);
  EXPECT_FALSE(OpenInstallerKey(forged).has_value());
}

TEST(InstallerKeyTest, TamperedSignatureAndForeignKeyAreRefused) {
  auto signer = crypto::SigningKey::Generate();
  auto other = crypto::SigningKey::Generate();
  ASSERT_TRUE(signer.has_value() && other.has_value());
  std::string text = SignInstallerKey(Sample(*signer), *signer);
  std::string flipped = text;
  flipped[flipped.size() - 10] = flipped[flipped.size() - 10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(VerifyInstallerKey(flipped, signer->PublicKey()).error().code(), Errc::kCrypto);
  // A key signed by another site, even one claiming this site's public key, is refused.
  EXPECT_EQ(VerifyInstallerKey(text, other->PublicKey()).error().code(), Errc::kCrypto);
  InstallerKey claims = Sample(*signer);
  std::string foreign = SignInstallerKey(claims, *other);
  EXPECT_EQ(VerifyInstallerKey(foreign, signer->PublicKey()).error().code(), Errc::kCrypto);
  EXPECT_EQ(OpenInstallerKey(foreign).error().code(), Errc::kCrypto);
}

TEST(InstallerKeyTest, GarbageHasClearErrors) {
  auto signer = crypto::SigningKey::Generate();
  ASSERT_TRUE(signer.has_value());
  std::string text = SignInstallerKey(Sample(*signer), *signer);
  auto no_prefix = VerifyInstallerKey(text.substr(5), signer->PublicKey());
  EXPECT_EQ(no_prefix.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(no_prefix.error().message().find("SLK1."), std::string::npos);
  auto truncated = VerifyInstallerKey(text.substr(0, text.find('.', 5)), signer->PublicKey());
  EXPECT_EQ(truncated.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(truncated.error().message().find("truncated"), std::string::npos);
  EXPECT_EQ(VerifyInstallerKey("SLK1.!!.??", signer->PublicKey()).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(OpenInstallerKey("").error().code(), Errc::kInvalidArgument);
}

TEST(InstallerKeyTest, WellSignedButMalformedPayloadIsCorrupt) {
  auto signer = crypto::SigningKey::Generate();
  ASSERT_TRUE(signer.has_value());
  InstallerKey key = Sample(*signer);
  key.kind = "jumpoint";  // installers exist only for jump clients and access consoles
  auto verified = VerifyInstallerKey(SignInstallerKey(key, *signer), signer->PublicKey());
  ASSERT_FALSE(verified.has_value());
  EXPECT_EQ(verified.error().code(), Errc::kCorrupt);
  EXPECT_NE(verified.error().message().find("kind"), std::string::npos);
}

TEST(InstallerKeyTest, OverridesAreValidated) {
  EXPECT_TRUE(ValidateOverrides({"mode", "jump-group", "tag"}).has_value());
  auto bad = ValidateOverrides({"mode", "kind"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("'kind'"), std::string::npos);
}

}  // namespace
}  // namespace sluice::installer
