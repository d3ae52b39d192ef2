// Appliance download keys: round trip, expiry and tampering.

#include "common/update/download_key.h"

#include <gtest/gtest.h>

#include "common/crypto/encoding.h"

namespace sluice::update {
namespace {

constexpr int64_t kNow = 1'764'057'600'000;

DownloadKey Sample() {
  return {.site_id = {},
          .public_key = {},
          .base_version = "5.0.0",
          .site_version = "1.0.0",
          .installed = {"base-5.0.0"},
          .issued_ms = kNow,
          .expires_ms = kNow + 2400 * 60'000};
}

TEST(DownloadKeyTest, RoundTripCarriesSiteAndVersions) {
  auto site = *crypto::SigningKey::Generate();
  const std::string text = EncodeDownloadKey(Sample(), site);
  EXPECT_TRUE(text.starts_with("SLUICE-DLKEY-1."));
  for (char c : text) EXPECT_TRUE(c > ' ' && c < 127) << "not printable ASCII";
  auto key = VerifyDownloadKey("  " + text + "\n", kNow + 1000);
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->site_id, SiteIdFor(site.PublicKey()));
  EXPECT_EQ(key->site_id.size(), 32u);
  EXPECT_EQ(key->public_key, site.PublicKey());
  EXPECT_EQ(key->base_version, "5.0.0");
  EXPECT_EQ(key->installed, std::vector<std::string>{"base-5.0.0"});
}

TEST(DownloadKeyTest, ExpiredKeyIsRefusedWithItsExpiry) {
  auto site = *crypto::SigningKey::Generate();
  DownloadKey past = Sample();
  past.issued_ms = kNow - 3'600'000;
  past.expires_ms = kNow - 60'000;
  auto key = VerifyDownloadKey(EncodeDownloadKey(past, site), kNow);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code(), Errc::kTimeout);
  EXPECT_NE(key.error().message().find("expired at 2025-11-25T07:59:00Z"), std::string::npos)
      << key.error().message();
  // Valid until the last millisecond before its expiry.
  EXPECT_TRUE(VerifyDownloadKey(EncodeDownloadKey(Sample(), site), kNow + 2400 * 60'000 - 1));
  EXPECT_FALSE(VerifyDownloadKey(EncodeDownloadKey(Sample(), site), kNow + 2400 * 60'000));
}

TEST(DownloadKeyTest, TamperedKeysAreRefused) {
  auto site = *crypto::SigningKey::Generate();
  const std::string text = EncodeDownloadKey(Sample(), site);
  const auto dot = text.rfind('.');
  const std::string payload = text.substr(15, dot - 15);

  // A later expiry written into the payload: the signature no longer matches.
  std::string json(AsChars(*crypto::Base64UrlDecode(payload)));
  const auto at = json.find("\"expires_ms\":") + 13;
  json[at] = json[at] == '9' ? '8' : '9';
  const std::string forged =
      "SLUICE-DLKEY-1." + crypto::Base64UrlEncode(AsBytes(json)) + text.substr(dot);
  auto key = VerifyDownloadKey(forged, kNow);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code(), Errc::kCrypto);
  EXPECT_NE(key.error().message().find("damaged or altered"), std::string::npos);

  // Re-signed by another key but claiming the original site id.
  auto other = *crypto::SigningKey::Generate();
  std::string other_text = EncodeDownloadKey(Sample(), other);
  const std::string site_id = SiteIdFor(site.PublicKey());
  std::string other_json(
      AsChars(*crypto::Base64UrlDecode(other_text.substr(15, other_text.rfind('.') - 15))));
  other_json.replace(other_json.find("\"site_id\":\"") + 11, 32, site_id);
  const std::string relabelled = "SLUICE-DLKEY-1." + crypto::Base64UrlEncode(AsBytes(other_json)) +
                                 "." + crypto::Base64UrlEncode(other.Sign(AsBytes(other_json)));
  key = VerifyDownloadKey(relabelled, kNow);
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message().find("site id does not match"), std::string::npos);

  EXPECT_EQ(VerifyDownloadKey("hello", kNow).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(VerifyDownloadKey(text.substr(0, text.size() - 3), kNow).error().code(), Errc::kCrypto);
}

}  // namespace
}  // namespace sluice::update
