#include "common/crypto/ed25519.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "common/base/file_util.h"

namespace sluice::crypto {
namespace {

constexpr const char* kAlgorithm = "ED25519";
constexpr size_t kMaxPemSize = 64 * 1024;

// Refuses passphrase prompts: an encrypted key file fails to load instead of blocking on a tty.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return -1; }

}  // namespace

Result<SigningKey> SigningKey::Generate() {
  EvpPkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, kAlgorithm));
  if (pkey == nullptr) return Fail(OpensslError(Errc::kCrypto, "generating Ed25519 key"));
  return SigningKey(std::move(pkey));
}

Result<SigningKey> SigningKey::FromRawPrivate(ByteView seed) {
  if (seed.size() != kEd25519PrivateKeySize) {
    return Fail(Errc::kInvalidArgument, "Ed25519 private key must be 32 bytes");
  }
  EvpPkeyPtr pkey(
      EVP_PKEY_new_raw_private_key_ex(nullptr, kAlgorithm, nullptr, seed.data(), seed.size()));
  if (pkey == nullptr) return Fail(OpensslError(Errc::kCrypto, "loading raw Ed25519 key"));
  return SigningKey(std::move(pkey));
}

Result<SigningKey> SigningKey::LoadPem(const std::string& path) {
  auto pem = ReadFile(path);
  if (!pem) return Context(pem.error(), "loading signing key");
  if (pem->size() > kMaxPemSize) return Fail(Errc::kCrypto, "not a key file (too large): " + path);
  BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  EvpPkeyPtr pkey;
  if (bio != nullptr) {
    pkey.reset(
        PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, NoPassphrase, nullptr, nullptr, nullptr));
  }
  OPENSSL_cleanse(pem->data(), pem->size());
  if (pkey == nullptr) return Fail(OpensslError(Errc::kCrypto, "no private key in " + path));
  if (!EVP_PKEY_is_a(pkey.get(), kAlgorithm)) {
    return Fail(Errc::kCrypto, "not an Ed25519 key: " + path);
  }
  return SigningKey(std::move(pkey));
}

Status SigningKey::SavePem(const std::string& path) const {
  // A secure-memory BIO is wiped when freed, so no copy of the PEM text lingers on the heap.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (bio == nullptr || PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0,
                                                 nullptr, nullptr) != 1) {
    return Fail(OpensslError(Errc::kCrypto, "encoding signing key for " + path));
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  if (size <= 0 || data == nullptr) return Fail(Errc::kCrypto, "encoding signing key for " + path);
  return WriteFileAtomic(path, std::string_view(data, static_cast<size_t>(size)), 0600);
}

Bytes SigningKey::Sign(ByteView message) const {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  Bytes signature(kEd25519SignatureSize);
  size_t length = signature.size();
  if (ctx == nullptr ||
      EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, pkey_.get(), nullptr) !=
          1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &length, message.data(), message.size()) != 1 ||
      length != kEd25519SignatureSize) {
    DieOnCryptoFailure("Ed25519 sign");
  }
  return signature;
}

Bytes SigningKey::PublicKey() const {
  Bytes key(kEd25519PublicKeySize);
  size_t length = key.size();
  if (EVP_PKEY_get_raw_public_key(pkey_.get(), key.data(), &length) != 1 ||
      length != kEd25519PublicKeySize) {
    DieOnCryptoFailure("Ed25519 public key export");
  }
  return key;
}

Status VerifyEd25519(ByteView public_key, ByteView message, ByteView signature) {
  if (public_key.size() != kEd25519PublicKeySize) return Fail(Errc::kCrypto, "bad public key");
  EvpPkeyPtr pkey(EVP_PKEY_new_raw_public_key_ex(nullptr, kAlgorithm, nullptr, public_key.data(),
                                                 public_key.size()));
  if (pkey == nullptr) {
    ClearOpensslErrors();
    return Fail(Errc::kCrypto, "bad public key");
  }
  if (signature.size() != kEd25519SignatureSize) {
    return Fail(Errc::kCrypto, "signature does not verify");
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                                                pkey.get(), nullptr) != 1) {
    return Fail(OpensslError(Errc::kCrypto, "Ed25519 verify setup"));
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                       message.size()) != 1) {
    ClearOpensslErrors();
    return Fail(Errc::kCrypto, "signature does not verify");
  }
  return {};
}

}  // namespace sluice::crypto
