#pragma once
// SHA-256 over buffers, streams and files. Packages are content-addressed by these digests.

#include <array>
#include <cstdint>
#include <string>

#include "common/base/bytes.h"
#include "common/base/error.h"
#include "common/crypto/openssl_util.h"

namespace sluice::crypto {

using Sha256Digest = std::array<uint8_t, 32>;

// Digest of `data`. Thread-safe. Aborts only if OpenSSL itself is broken.
Sha256Digest Sha256(ByteView data);

// Incremental SHA-256 for data that arrives in pieces (downloads, chunked reads).
// Movable, not copyable; a moved-from hasher must not be used. One thread at a time.
class Sha256Hasher {
 public:
  Sha256Hasher();

  // Feeds more bytes. The view is not retained.
  void Update(ByteView data);

  // Returns the digest of everything fed since construction or the previous Finish, and resets
  // the hasher to empty so it can be reused.
  Sha256Digest Finish();

 private:
  EvpMdCtxPtr ctx_;
};

// HMAC-SHA-256 of `data` under `key`. Thread-safe.
Sha256Digest HmacSha256(ByteView key, ByteView data);

// Digest of the file at `path`, read in 64 KiB blocks (memory use does not grow with the file).
// Errc::kNotFound if it does not exist, Errc::kIo on other read failures.
Result<Sha256Digest> Sha256File(const std::string& path);
// Sha256File as lower-case hex, the way packages and snapshots are named.
Result<std::string> Sha256FileHex(const std::string& path);

}  // namespace sluice::crypto
