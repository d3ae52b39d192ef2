#include "common/crypto/password_hash.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace sluice::crypto {
namespace {

// Cheap cost so the tests stay fast; the format is the production one.
constexpr PasswordHashParams kCheapHash{.log2_n = 10, .r = 1, .p = 1};

std::string Hash(std::string_view password, const PasswordHashParams& params = kCheapHash) {
  auto hashed = HashPassword(password, params);
  EXPECT_TRUE(hashed) << hashed.error().ToString();
  return hashed.value_or("");
}

TEST(PasswordHashTest, DefaultHashIsSelfDescribingAndVerifies) {
  const std::string encoded = Hash("correct horse battery", PasswordHashParams{});
  EXPECT_TRUE(encoded.starts_with("$scrypt$ln=15,r=8,p=1$")) << encoded;
  EXPECT_EQ(encoded.find("correct horse"), std::string::npos);
  EXPECT_TRUE(VerifyPassword("correct horse battery", encoded));
  EXPECT_FALSE(VerifyPassword("correct horse batterY", encoded));
  EXPECT_FALSE(NeedsRehash(encoded));
  auto params = ParsePasswordHashParams(encoded);
  ASSERT_TRUE(params);
  EXPECT_EQ(*params, PasswordHashParams{});
}

TEST(PasswordHashTest, WrongPasswordsAreRefused) {
  const std::string encoded = Hash("sesame-open-1234");
  EXPECT_TRUE(VerifyPassword("sesame-open-1234", encoded));
  for (std::string_view wrong : {"", "sesame-open-123", "sesame-open-12345", "Sesame-open-1234",
                                 "sesame-open-1234\n", " sesame-open-1234"}) {
    EXPECT_FALSE(VerifyPassword(wrong, encoded)) << wrong;
  }
}

TEST(PasswordHashTest, EachHashHasItsOwnSalt) {
  const std::string a = Hash("same password here");
  const std::string b = Hash("same password here");
  EXPECT_NE(a, b);
  EXPECT_TRUE(VerifyPassword("same password here", a));
  EXPECT_TRUE(VerifyPassword("same password here", b));
}

TEST(PasswordHashTest, OlderParametersStillVerifyAndAskForARehash) {
  const std::string old = Hash("rotate me please", kCheapHash);
  EXPECT_TRUE(old.starts_with("$scrypt$ln=10,r=1,p=1$")) << old;
  EXPECT_TRUE(VerifyPassword("rotate me please", old));
  EXPECT_TRUE(NeedsRehash(old));
  EXPECT_FALSE(NeedsRehash(old, kCheapHash));
}

TEST(PasswordHashTest, CorruptEncodingsNeverVerify) {
  const std::string good = Hash("password-for-tests");
  ASSERT_TRUE(VerifyPassword("password-for-tests", good));
  const size_t salt_at = good.find('$', std::string("$scrypt$").size()) + 1;
  const size_t hash_at = good.rfind('$') + 1;
  std::string flipped_hash = good;
  flipped_hash[hash_at] = flipped_hash[hash_at] == 'A' ? 'B' : 'A';
  std::string flipped_salt = good;
  flipped_salt[salt_at] = flipped_salt[salt_at] == 'A' ? 'B' : 'A';
  std::vector<std::string> corrupt = {
      "",
      "password-for-tests",
      good.substr(1),                   // no leading $
      "$argon2id" + good.substr(7),     // another algorithm
      good.substr(0, good.size() - 1),  // hash one character short
      good + "A",                       // hash one character long
      good + "$extra",                  // a fourth field
      flipped_hash,
      flipped_salt,
  };
  std::string params = good;
  params.replace(params.find("ln=10"), 5, "ln=09");  // leading zero
  corrupt.push_back(params);
  params = good;
  params.replace(params.find("ln=10"), 5, "ln=30");  // 2^30: refused, never run
  corrupt.push_back(params);
  params = good;
  params.replace(params.find("r=1,"), 4, "r=0,");
  corrupt.push_back(params);
  params = good;
  params.replace(params.find(",p=1"), 4, ",p=+1");
  corrupt.push_back(params);
  params = good;
  params.replace(params.find("ln=10,r=1,p=1"), 13, "r=1,ln=10,p=1");  // order is fixed
  corrupt.push_back(params);
  for (const std::string& encoded : corrupt) {
    EXPECT_FALSE(VerifyPassword("password-for-tests", encoded)) << encoded;
  }
  EXPECT_FALSE(ParsePasswordHashParams(corrupt[2]));
  EXPECT_EQ(ParsePasswordHashParams("$scrypt$ln=10,r=1,p=1$x$y").error().code(), Errc::kCorrupt);
  EXPECT_TRUE(NeedsRehash("garbage"));
}

// What unknown account names are checked against: well-formed at the default cost (so the
// check runs a full scrypt), matched by no password, different every time.
TEST(PasswordHashTest, AnUnmatchableHashIsWellFormedAndMatchesNothing) {
  const std::string nobody = UnmatchablePasswordHash();
  EXPECT_FALSE(NeedsRehash(nobody));
  EXPECT_EQ(ParsePasswordHashParams(nobody).value_or(PasswordHashParams{.log2_n = 1}),
            PasswordHashParams{});
  for (const char* password : {"", "x", "correct horse battery staple"}) {
    EXPECT_FALSE(VerifyPassword(password, nobody)) << password;
  }
  EXPECT_NE(UnmatchablePasswordHash(), nobody);
}

TEST(PasswordHashTest, RefusesEmptyPasswordsAndUnsupportedParameters) {
  EXPECT_EQ(HashPassword("", kCheapHash).error().code(), Errc::kInvalidArgument);
  for (PasswordHashParams bad : {PasswordHashParams{.log2_n = 9, .r = 1, .p = 1},
                                 PasswordHashParams{.log2_n = 21, .r = 1, .p = 1},
                                 PasswordHashParams{.log2_n = 10, .r = 0, .p = 1},
                                 PasswordHashParams{.log2_n = 10, .r = 17, .p = 1},
                                 PasswordHashParams{.log2_n = 10, .r = 1, .p = 5},
                                 PasswordHashParams{.log2_n = 20, .r = 16, .p = 1}}) {
    EXPECT_EQ(HashPassword("long enough password", bad).error().code(), Errc::kInvalidArgument)
        << bad.log2_n << " " << bad.r << " " << bad.p;
  }
}

TEST(PasswordHashTest, VerifiesFromManyThreadsAtOnce) {
  const std::string encoded = Hash("shared between threads");
  std::vector<std::thread> threads;
  std::vector<int> right(8, 0), wrong(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        right[t] += VerifyPassword("shared between threads", encoded) ? 1 : 0;
        wrong[t] += VerifyPassword("shared between thread", encoded) ? 1 : 0;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < 8; ++t) {
    EXPECT_EQ(right[t], 5);
    EXPECT_EQ(wrong[t], 0);
  }
}

}  // namespace
}  // namespace sluice::crypto
