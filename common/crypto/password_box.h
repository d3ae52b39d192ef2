#pragma once
// Password-protected blobs (backups, exported keys).
//
// Format: "SLB1" | scrypt N, r, p (u32 big-endian each) | 16-byte salt | 12-byte nonce |
//         AES-256-GCM ciphertext | 16-byte tag.
// The key is scrypt(password, salt, N, r, p); the 44 header bytes are authenticated as AAD, so
// any change to any byte is detected. Every blob gets a fresh random salt and nonce.

#include <cstdint>
#include <string_view>

#include "common/base/bytes.h"
#include "common/base/error.h"

namespace sluice::crypto {

// scrypt cost. The defaults (N = 2^15, r = 8, p = 1: 32 MiB, tens of milliseconds) are what
// production uses; tests may pass cheaper values. Accepted range, for sealing and opening alike:
// N a power of two in [2^10, 2^20], r in [1, 16], p in [1, 4], 128 * N * r <= 256 MiB — so a
// forged header cannot make OpenWithPassword burn unbounded memory or time.
struct ScryptParams {
  uint32_t n = 1u << 15;
  uint32_t r = 8;
  uint32_t p = 1;
};

// Encrypts `plaintext` under `password`. Errc::kInvalidArgument for an empty password or
// out-of-range params, Errc::kCrypto if OpenSSL fails. Thread-safe.
[[nodiscard]] Result<Bytes> SealWithPassword(ByteView plaintext, std::string_view password,
                                             const ScryptParams& params = {});

// Decrypts a blob made by SealWithPassword. Errc::kCorrupt "not a password box: ..." if it is too
// short, has the wrong magic or unsupported scrypt params; Errc::kAuth "wrong password or
// corrupted data" if the password is wrong or any authenticated byte was changed (the two cannot
// be told apart). No plaintext is returned unless authentication succeeds. Thread-safe.
[[nodiscard]] Result<Bytes> OpenWithPassword(ByteView sealed, std::string_view password);

}  // namespace sluice::crypto
