#include "common/crypto/hash.h"

#include <gtest/gtest.h>

#include <string>

#include "common/base/file_util.h"
#include "common/crypto/encoding.h"

namespace sluice::crypto {
namespace {

constexpr const char* kSha256Abc =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* kSha256Empty =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(HashTest, Sha256KnownAnswers) {
  EXPECT_EQ(HexEncode(Sha256(AsBytes("abc"))), kSha256Abc);
  EXPECT_EQ(HexEncode(Sha256(AsBytes(""))), kSha256Empty);
  // FIPS 180-2 two-block message.
  EXPECT_EQ(HexEncode(Sha256(AsBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(HashTest, StreamingMatchesOneShotAndResetsAfterFinish) {
  std::string data(200'000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 + 7);
  Sha256Hasher hasher;
  for (size_t i = 0; i < data.size(); i += 977) {
    hasher.Update(AsBytes(std::string_view(data).substr(i, 977)));
  }
  EXPECT_EQ(hasher.Finish(), Sha256(AsBytes(data)));
  // After Finish the hasher starts over.
  hasher.Update(AsBytes("abc"));
  EXPECT_EQ(HexEncode(hasher.Finish()), kSha256Abc);
  EXPECT_EQ(HexEncode(hasher.Finish()), kSha256Empty);
}

TEST(HashTest, HasherIsMovable) {
  Sha256Hasher a;
  a.Update(AsBytes("ab"));
  Sha256Hasher b = std::move(a);
  b.Update(AsBytes("c"));
  EXPECT_EQ(HexEncode(b.Finish()), kSha256Abc);
}

TEST(HashTest, Sha256FileStreamsLargeFiles) {
  auto dir = MakeTempDir("sluice-hash-");
  ASSERT_TRUE(dir) << dir.error().ToString();
  // Spans several 64 KiB blocks and ends mid-block.
  std::string data(3 * 64 * 1024 + 123, 'x');
  for (size_t i = 0; i < data.size(); i += 101) data[i] = static_cast<char>(i);
  const std::string path = *dir + "/blob";
  ASSERT_TRUE(WriteFileAtomic(path, data));
  auto digest = Sha256File(path);
  ASSERT_TRUE(digest) << digest.error().ToString();
  EXPECT_EQ(*digest, Sha256(AsBytes(data)));

  ASSERT_TRUE(WriteFileAtomic(path, ""));
  EXPECT_EQ(HexEncode(*Sha256File(path)), kSha256Empty);
  ASSERT_TRUE(RemoveAll(*dir));
}

TEST(HashTest, Sha256FileErrors) {
  auto missing = Sha256File("/nonexistent/sluice/file");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
  EXPECT_NE(missing.error().message().find("/nonexistent/sluice/file"), std::string::npos);

  auto directory = Sha256File("/");
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().code(), Errc::kIo);
}

}  // namespace
}  // namespace sluice::crypto
