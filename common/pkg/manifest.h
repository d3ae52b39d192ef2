#pragma once
// The signed description of one client package. The server signs the manifest's exact bytes
// with the site's Ed25519 key; clients verify them against the key pinned at install time
// before trusting any field, then check the package's size and SHA-256 against it.
//
// Wire form: compact JSON with sorted keys, e.g.
//   {"allow_downgrade":false,"created_ms":1764057600000,"kind":"jump-client",
//    "platform":"linux-x86_64","sha256":"<64 hex>","size":1048576,"version":"2.0.0"}

#include <cstdint>
#include <string>

#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/crypto/ed25519.h"

namespace sluice::pkg {

struct Manifest {
  std::string kind;
  std::string platform;
  std::string version;
  uint64_t size = 0;
  std::string sha256;  // lowercase hex of the package bytes
  // A package older than what a client runs is refused unless the site signed this flag.
  bool allow_downgrade = false;
  int64_t created_ms = 0;
  bool operator==(const Manifest&) const = default;
};

Bytes EncodeManifest(const Manifest& manifest);
// Errors: kCorrupt naming the missing or malformed field.
[[nodiscard]] Result<Manifest> ParseManifest(ByteView bytes);

struct SignedManifest {
  Bytes manifest;
  Bytes signature;
};
SignedManifest SignManifest(const Manifest& manifest, const crypto::SigningKey& key);
// Verifies the signature first, then parses. Errors: kCrypto for a bad signature or key,
// kCorrupt for a well-signed but malformed manifest.
[[nodiscard]] Result<Manifest> VerifyManifest(ByteView manifest, ByteView signature,
                                              ByteView public_key);

}  // namespace sluice::pkg
