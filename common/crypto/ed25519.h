#pragma once
// Ed25519 signatures: the site signs package manifests; clients verify them against the public
// key pinned in their installer.

#include <cstddef>
#include <string>
#include <utility>

#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/crypto/openssl_util.h"

namespace sluice::crypto {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519PrivateKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

// An Ed25519 private key. Movable, not copyable; a moved-from key must not be used. The const
// methods are safe to call from several threads at once.
class SigningKey {
 public:
  // A new random key. Errc::kCrypto if OpenSSL cannot generate one.
  [[nodiscard]] static Result<SigningKey> Generate();

  // Loads an unencrypted PKCS#8 PEM private key ("BEGIN PRIVATE KEY"). Errc::kNotFound/kIo if the
  // file cannot be read, Errc::kCrypto if it holds no private key, an encrypted one (never
  // prompts) or a key of another type.
  [[nodiscard]] static Result<SigningKey> LoadPem(const std::string& path);

  // A key from its raw 32-byte private seed (RFC 8032 "secret key"). Errc::kInvalidArgument if
  // the size is wrong.
  [[nodiscard]] static Result<SigningKey> FromRawPrivate(ByteView seed);

  // Writes the key as unencrypted PKCS#8 PEM, atomically, with mode 0600 from the start.
  // Errc::kIo (naming the path) on failure; the previous file, if any, is then left intact.
  [[nodiscard]] Status SavePem(const std::string& path) const;

  // The 64-byte signature of `message`. Deterministic (same key and message, same signature).
  Bytes Sign(ByteView message) const;

  // The raw 32-byte public key.
  Bytes PublicKey() const;

 private:
  explicit SigningKey(EvpPkeyPtr pkey) : pkey_(std::move(pkey)) {}

  EvpPkeyPtr pkey_;
};

// Success if `signature` is a valid Ed25519 signature of `message` under the raw 32-byte
// `public_key`. Errc::kCrypto "bad public key" if the key is malformed, "signature does not
// verify" otherwise. Thread-safe.
Status VerifyEd25519(ByteView public_key, ByteView message, ByteView signature);

}  // namespace sluice::crypto
