#include "common/crypto/random.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/crypto/compare.h"
#include "common/crypto/encoding.h"
#include "common/crypto/hash.h"
#include "common/crypto/secret.h"

namespace sluice::crypto {
namespace {

bool IsLowerHex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

TEST(CryptoRandomTest, BytesHaveRequestedSizeAndDiffer) {
  EXPECT_TRUE(RandomBytes(0).empty());
  EXPECT_EQ(RandomBytes(1).size(), 1u);
  EXPECT_EQ(RandomBytes(100'000).size(), 100'000u);
  EXPECT_NE(RandomBytes(32), RandomBytes(32));
  const std::string hex = RandomHex(16);
  EXPECT_EQ(hex.size(), 32u);
  EXPECT_TRUE(IsLowerHex(hex));
}

TEST(CryptoRandomTest, NewUuidIsVersion4LowercaseAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string uuid = NewUuid();
    ASSERT_EQ(uuid.size(), 36u);
    EXPECT_TRUE(IsUuid(uuid)) << uuid;
    EXPECT_EQ(uuid[14], '4') << uuid;
    EXPECT_NE(std::string_view("89ab").find(uuid[19]), std::string_view::npos) << uuid;
    std::string digits = uuid;
    std::erase(digits, '-');
    EXPECT_TRUE(IsLowerHex(digits)) << uuid;
    EXPECT_TRUE(seen.insert(uuid).second);
  }
}

TEST(CryptoRandomTest, IsUuidIsStrict) {
  EXPECT_TRUE(IsUuid("123e4567-e89b-42d3-a456-426614174000"));
  EXPECT_TRUE(IsUuid("123E4567-E89B-42D3-A456-426614174000"));
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("123e4567e89b42d3a456426614174000"));
  EXPECT_FALSE(IsUuid("{123e4567-e89b-42d3-a456-426614174000}"));
  EXPECT_FALSE(IsUuid("123e4567-e89b-42d3-a456-42661417400"));
  EXPECT_FALSE(IsUuid("123e4567-e89b-42d3-a456-4266141740000"));
  EXPECT_FALSE(IsUuid("123e4567-e89b-42d3-a456-42661417400g"));
  EXPECT_FALSE(IsUuid("123e4567-e89b-42d3a-456-426614174000"));
  EXPECT_FALSE(IsUuid(" 23e4567-e89b-42d3-a456-426614174000"));
}

TEST(CryptoRandomTest, NewGuidUpperHasMsiForm) {
  const std::string guid = NewGuidUpper();
  ASSERT_EQ(guid.size(), 38u);
  EXPECT_EQ(guid.front(), '{');
  EXPECT_EQ(guid.back(), '}');
  const std::string inner = guid.substr(1, 36);
  EXPECT_TRUE(IsUuid(inner)) << guid;
  EXPECT_EQ(inner.find_first_of("abcdef"), std::string::npos) << guid;
  EXPECT_EQ(inner[14], '4');
  EXPECT_NE(NewGuidUpper(), guid);
}

TEST(CryptoCompareTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("Secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("secret", ""));
  EXPECT_TRUE(ConstantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(CryptoSecretTest, ClientSecretAndItsHash) {
  const std::string secret = NewClientSecret();
  EXPECT_EQ(secret.size(), 64u);
  EXPECT_TRUE(IsLowerHex(secret));
  EXPECT_NE(NewClientSecret(), secret);

  const std::string stored = HashSecret(secret);
  EXPECT_EQ(stored.size(), 64u);
  EXPECT_EQ(stored, HexEncode(Sha256(AsBytes(secret))));
  EXPECT_TRUE(ConstantTimeEquals(HashSecret(secret), stored));
  EXPECT_FALSE(ConstantTimeEquals(HashSecret(NewClientSecret()), stored));
  EXPECT_EQ(HashSecret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace sluice::crypto
