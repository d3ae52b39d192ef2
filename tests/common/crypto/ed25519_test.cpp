#include "common/crypto/ed25519.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "common/base/file_util.h"
#include "common/crypto/encoding.h"

namespace sluice::crypto {
namespace {

// RFC 8032 section 7.1, TEST 1 (empty message).
constexpr const char* kRfcSecret =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr const char* kRfcPublic =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr const char* kRfcSignature =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
    "b46bd25bf5f0595bbe24655141438e7a100b";

class Ed25519Test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDir("sluice-ed25519-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_ = *dir;
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_)); }

  std::string dir_;
};

TEST_F(Ed25519Test, Rfc8032Vector1) {
  auto key = SigningKey::FromRawPrivate(*HexDecode(kRfcSecret));
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(HexEncode(key->PublicKey()), kRfcPublic);
  const Bytes signature = key->Sign({});
  EXPECT_EQ(HexEncode(signature), kRfcSignature);
  EXPECT_TRUE(VerifyEd25519(*HexDecode(kRfcPublic), {}, *HexDecode(kRfcSignature)));
}

TEST_F(Ed25519Test, FromRawPrivateRejectsWrongSize) {
  auto key = SigningKey::FromRawPrivate(Bytes(31, 1));
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code(), Errc::kInvalidArgument);
}

TEST_F(Ed25519Test, SignVerifyAndFlippedBitsFail) {
  auto key = SigningKey::Generate();
  ASSERT_TRUE(key) << key.error().ToString();
  const Bytes message = Bytes{'m', 'a', 'n', 'i', 'f', 'e', 's', 't'};
  const Bytes signature = key->Sign(message);
  const Bytes public_key = key->PublicKey();
  ASSERT_EQ(signature.size(), 64u);
  ASSERT_EQ(public_key.size(), 32u);
  EXPECT_TRUE(VerifyEd25519(public_key, message, signature));
  EXPECT_EQ(key->Sign(message), signature);  // deterministic

  Bytes bad_message = message;
  bad_message[3] ^= 0x01;
  auto r = VerifyEd25519(public_key, bad_message, signature);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kCrypto);
  EXPECT_EQ(r.error().message(), "signature does not verify");

  for (size_t i = 0; i < signature.size(); i += 7) {
    Bytes bad_signature = signature;
    bad_signature[i] ^= 0x80;
    EXPECT_FALSE(VerifyEd25519(public_key, message, bad_signature)) << "byte " << i;
  }
  EXPECT_FALSE(VerifyEd25519(public_key, message, ByteView(signature).first(63)));

  auto other = SigningKey::Generate();
  ASSERT_TRUE(other);
  EXPECT_FALSE(VerifyEd25519(other->PublicKey(), message, signature));
}

TEST_F(Ed25519Test, BadPublicKey) {
  auto key = SigningKey::Generate();
  ASSERT_TRUE(key);
  const Bytes message = {1, 2, 3};
  auto r = VerifyEd25519(ByteView(key->PublicKey()).first(31), message, key->Sign(message));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kCrypto);
  EXPECT_EQ(r.error().message(), "bad public key");
}

TEST_F(Ed25519Test, PemRoundTripWithMode0600) {
  auto key = SigningKey::Generate();
  ASSERT_TRUE(key);
  const std::string path = dir_ + "/site.key";
  ASSERT_TRUE(key->SavePem(path));

  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto pem = ReadFile(path);
  ASSERT_TRUE(pem);
  EXPECT_TRUE(pem->starts_with("-----BEGIN PRIVATE KEY-----\n")) << "PKCS#8 expected";

  auto loaded = SigningKey::LoadPem(path);
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(loaded->PublicKey(), key->PublicKey());
  const Bytes message = {'x'};
  EXPECT_TRUE(VerifyEd25519(key->PublicKey(), message, loaded->Sign(message)));

  // Saving again replaces the file atomically and keeps the mode.
  auto second = SigningKey::Generate();
  ASSERT_TRUE(second);
  ASSERT_TRUE(second->SavePem(path));
  EXPECT_EQ(SigningKey::LoadPem(path)->PublicKey(), second->PublicKey());
}

TEST_F(Ed25519Test, LoadPemErrors) {
  auto missing = SigningKey::LoadPem(dir_ + "/absent.key");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);

  const std::string garbage = dir_ + "/garbage.key";
  ASSERT_TRUE(WriteFileAtomic(garbage, "not a key\n"));
  auto r = SigningKey::LoadPem(garbage);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kCrypto);

  // A valid PKCS#8 key of another type (P-256) is refused.
  const std::string ec_key =
      "-----BEGIN PRIVATE KEY-----\n"
      "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXHIe2gTVCPo8kR0Z\n"
      "s6aa89teAlQ2qQ8XlPFVS9u7s22hRANCAATbxC3yHy9MpsYTkh1Mt9NtLQIeEPKA\n"
      "+Eei8dM8ZJ3kJ1B4BUG9dAYmOoy+8AdjGmp30KNN1jfJtaa6HoIl5tYx\n"
      "-----END PRIVATE KEY-----\n";
  const std::string ec_path = dir_ + "/ec.key";
  ASSERT_TRUE(WriteFileAtomic(ec_path, ec_key));
  auto ec = SigningKey::LoadPem(ec_path);
  ASSERT_FALSE(ec);
  EXPECT_EQ(ec.error().code(), Errc::kCrypto);
  EXPECT_NE(ec.error().message().find("not an Ed25519 key"), std::string::npos);

  // An encrypted key fails at once instead of prompting for a passphrase.
  const std::string encrypted_key =
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
      "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAg5SArcM3HMAQICCAAw\n"
      "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEDP21lzi4jgwrD7JjME8gxUEQOwk\n"
      "nKZoAQVe66SSFCtvluyFx36ekzOmmNPMspKELps32dSjGyJ1X0iM9PpXL6+/cRcx\n"
      "LRag6XRKgFaWUiA/eb8=\n"
      "-----END ENCRYPTED PRIVATE KEY-----\n";
  const std::string encrypted_path = dir_ + "/encrypted.key";
  ASSERT_TRUE(WriteFileAtomic(encrypted_path, encrypted_key));
  auto encrypted = SigningKey::LoadPem(encrypted_path);
  ASSERT_FALSE(encrypted);
  EXPECT_EQ(encrypted.error().code(), Errc::kCrypto);
}

TEST_F(Ed25519Test, KeyIsMovable) {
  auto key = SigningKey::Generate();
  ASSERT_TRUE(key);
  const Bytes public_key = key->PublicKey();
  SigningKey moved = std::move(*key);
  EXPECT_EQ(moved.PublicKey(), public_key);
}

}  // namespace
}  // namespace sluice::crypto
