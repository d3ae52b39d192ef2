#include "common/crypto/encoding.h"

#include <gtest/gtest.h>

#include <string>

#include "common/crypto/random.h"

namespace sluice::crypto {
namespace {

std::string Str(const Bytes& b) { return std::string(AsChars(b)); }

TEST(EncodingTest, HexRoundTripAndCase) {
  const Bytes data = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
  EXPECT_EQ(HexEncode(data), "00017f80abff");
  EXPECT_EQ(*HexDecode("00017f80abff"), data);
  EXPECT_EQ(*HexDecode("00017F80ABFF"), data);
  EXPECT_EQ(HexEncode({}), "");
  EXPECT_TRUE(HexDecode("")->empty());
  for (size_t n : {1u, 2u, 31u, 32u, 33u, 1000u}) {
    const Bytes random = RandomBytes(n);
    EXPECT_EQ(*HexDecode(HexEncode(random)), random);
  }
}

TEST(EncodingTest, HexRejectsBadInput) {
  for (const char* bad : {"0", "abc", "0g", "g0", " 00", "00 ", "0x00", "-1", "zz"}) {
    auto r = HexDecode(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Errc::kInvalidArgument) << bad;
  }
}

TEST(EncodingTest, Base64Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(AsBytes(plain)), encoded);
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(Str(*decoded), plain);
  }
  const Bytes high = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(Base64Encode(high), "+/+/");
  EXPECT_EQ(Base64UrlEncode(high), "-_-_");
}

TEST(EncodingTest, Base64RejectsBadInput) {
  for (const char* bad : {"Zg", "Zg=", "Zg===", "Z===", "====", "Zm9v\n", " Zm9v",
                          "Zm9v====", "Zg==Zg==", "Zm=v", "Zh==", "Zm9=", "Zm-v", "Zm_v", "Zm9*"}) {
    auto r = Base64Decode(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Errc::kInvalidArgument) << bad;
  }
}

TEST(EncodingTest, Base64UrlRoundTripAndStrictness) {
  EXPECT_EQ(Base64UrlEncode(AsBytes("f")), "Zg");
  EXPECT_EQ(Base64UrlEncode(AsBytes("fo")), "Zm8");
  EXPECT_EQ(Str(*Base64UrlDecode("Zm9vYmE")), "fooba");
  for (size_t n = 0; n < 70; ++n) {
    const Bytes random = RandomBytes(n);
    auto url = Base64UrlDecode(Base64UrlEncode(random));
    ASSERT_TRUE(url) << n;
    EXPECT_EQ(*url, random);
    auto std = Base64Decode(Base64Encode(random));
    ASSERT_TRUE(std) << n;
    EXPECT_EQ(*std, random);
  }
  for (const char* bad : {"Zg==", "Zm8=", "Z", "Zm9vY", "Zm+v", "Zm/v", "Zh", "Zm9", "Zg\n"}) {
    auto r = Base64UrlDecode(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Errc::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace sluice::crypto
