#include "common/crypto/password_box.h"

#include <gtest/gtest.h>

#include <string>

#include "common/crypto/random.h"

namespace sluice::crypto {
namespace {

constexpr size_t kOverhead = 4 + 12 + 16 + 12 + 16;  // header + tag
// Cheap scrypt cost so tests that open hundreds of blobs stay fast; the format is the same.
constexpr ScryptParams kCheap{1u << 10, 1, 1};

Bytes Seal(std::string_view plaintext, std::string_view password,
           const ScryptParams& params = kCheap) {
  auto sealed = SealWithPassword(AsBytes(plaintext), password, params);
  EXPECT_TRUE(sealed) << sealed.error().ToString();
  return sealed.value_or(Bytes{});
}

TEST(PasswordBoxTest, RoundTripWithProductionParams) {
  const std::string plaintext = "sqlite backup bytes \x01\x02\x03";
  const Bytes sealed = Seal(plaintext, "correct horse", ScryptParams{});
  ASSERT_EQ(sealed.size(), plaintext.size() + kOverhead);
  EXPECT_EQ(AsChars(ByteView(sealed).first(4)), "SLB1");
  // N = 2^15, r = 8, p = 1, big-endian.
  const Bytes params(sealed.begin() + 4, sealed.begin() + 16);
  EXPECT_EQ(params, (Bytes{0, 0, 0x80, 0, 0, 0, 0, 8, 0, 0, 0, 1}));
  // The plaintext does not appear in the blob.
  EXPECT_EQ(std::string(AsChars(sealed)).find("sqlite backup"), std::string::npos);

  auto opened = OpenWithPassword(sealed, "correct horse");
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_EQ(AsChars(*opened), plaintext);
  auto wrong = OpenWithPassword(sealed, "Correct horse");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), Errc::kAuth);
}

TEST(PasswordBoxTest, WrongPasswordIsAuthError) {
  const Bytes sealed = Seal("secret", "correct horse");
  for (std::string_view wrong : {"correct horsE", "correct hors", "", "correct horse "}) {
    auto opened = OpenWithPassword(sealed, wrong);
    ASSERT_FALSE(opened) << wrong;
    EXPECT_EQ(opened.error().code(), Errc::kAuth);
    EXPECT_EQ(opened.error().message(), "wrong password or corrupted data");
  }
}

TEST(PasswordBoxTest, EmptyAndLargePlaintexts) {
  const Bytes empty = Seal("", "pw");
  ASSERT_EQ(empty.size(), kOverhead);
  auto opened_empty = OpenWithPassword(empty, "pw");
  ASSERT_TRUE(opened_empty) << opened_empty.error().ToString();
  EXPECT_TRUE(opened_empty->empty());

  const Bytes large = RandomBytes(3 * 1024 * 1024 + 5);
  auto sealed = SealWithPassword(large, "pw", kCheap);
  ASSERT_TRUE(sealed);
  auto opened = OpenWithPassword(*sealed, "pw");
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, large);
}

TEST(PasswordBoxTest, EachSealUsesFreshSaltAndNonce) {
  const Bytes a = Seal("same", "pw");
  const Bytes b = Seal("same", "pw");
  EXPECT_NE(Bytes(a.begin() + 16, a.begin() + 44), Bytes(b.begin() + 16, b.begin() + 44));
  EXPECT_NE(a, b);
}

TEST(PasswordBoxTest, FlippedBitAnywhereIsRejected) {
  const Bytes sealed = Seal("a short backup payload", "pw");
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes tampered = sealed;
      tampered[i] ^= static_cast<uint8_t>(1u << bit);
      auto opened = OpenWithPassword(tampered, "pw");
      ASSERT_FALSE(opened) << "byte " << i << " bit " << bit;
      const Errc code = opened.error().code();
      EXPECT_TRUE(code == Errc::kAuth || code == Errc::kCorrupt)
          << "byte " << i << " bit " << bit << ": " << opened.error().ToString();
      if (i < 4) {
        EXPECT_EQ(code, Errc::kCorrupt) << "magic byte " << i;
      } else if (i >= 16) {
        EXPECT_EQ(code, Errc::kAuth) << "byte " << i;
      }
    }
  }
}

TEST(PasswordBoxTest, TruncatedOrForeignInputIsCorrupt) {
  const Bytes sealed = Seal("payload", "pw");
  for (size_t length = 0; length < kOverhead; ++length) {
    auto opened = OpenWithPassword(ByteView(sealed).first(length), "pw");
    ASSERT_FALSE(opened) << length;
    EXPECT_EQ(opened.error().code(), Errc::kCorrupt) << length;
  }
  // Cut inside the ciphertext or tag: there is no length field, so the tag check catches it.
  for (size_t length = kOverhead; length < sealed.size(); ++length) {
    auto opened = OpenWithPassword(ByteView(sealed).first(length), "pw");
    ASSERT_FALSE(opened) << length;
    EXPECT_EQ(opened.error().code(), Errc::kAuth) << length;
  }
  Bytes foreign = sealed;
  foreign[3] = '2';
  auto opened = OpenWithPassword(foreign, "pw");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code(), Errc::kCorrupt);
}

TEST(PasswordBoxTest, ForgedCostParamsAreRefusedBeforeDerivation) {
  Bytes sealed = Seal("payload", "pw");
  sealed[4] = 0x40;  // N = 2^30 + 2^10: would need gigabytes
  auto opened = OpenWithPassword(sealed, "pw");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code(), Errc::kCorrupt);
  EXPECT_NE(opened.error().message().find("scrypt"), std::string::npos);
}

TEST(PasswordBoxTest, SealRejectsEmptyPasswordAndBadParams) {
  auto empty = SealWithPassword(AsBytes("x"), "");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code(), Errc::kInvalidArgument);
  for (const ScryptParams& bad :
       {ScryptParams{1000, 8, 1}, ScryptParams{1u << 9, 8, 1}, ScryptParams{1u << 21, 1, 1},
        ScryptParams{1u << 15, 0, 1}, ScryptParams{1u << 15, 8, 0}, ScryptParams{1u << 20, 8, 1}}) {
    auto r = SealWithPassword(AsBytes("x"), "pw", bad);
    ASSERT_FALSE(r) << bad.n << "," << bad.r << "," << bad.p;
    EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  }
}

}  // namespace
}  // namespace sluice::crypto
